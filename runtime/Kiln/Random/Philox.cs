using System.Runtime.CompilerServices;

namespace Kiln;

/// <summary>
/// Philox-4x32-10, a counter-based generator: the i-th number depends only on (seed, offset + i), so
/// any number of threads produce the same stream.
/// </summary>
internal static class Philox
{
    const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(ulong key, ulong counter, out uint r0, out uint r1, out uint r2, out uint r3)
    {
        uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n1 = (uint)p1;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            uint n3 = (uint)p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += W0; k1 += W1;
        }
        r0 = c0; r1 = c1; r2 = c2; r3 = c3;
    }

    /// <summary>The 32-bit word number <paramref name="index"/> of the stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Word(ulong key, ulong index)
    {
        Block(key, index >> 2, out uint a, out uint b, out uint c, out uint d);
        return (index & 3) switch { 0 => a, 1 => b, 2 => c, _ => d };
    }
}
