using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>
    /// Words [<paramref name="first"/>, first + dest.Length) of the stream, identical to calling <see cref="Word"/> for each:
    /// one block per four words, thirty-two blocks at a time with AVX-512 (eight near a wrap of the counters' low halves), four with AVX2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Fill(ulong key, ulong first, Span<uint> dest)
    {
        int i = 0, n = dest.Length;
        // Unaligned head: words of a partly used block.
        while (i < n && ((first + (ulong)i) & 3) != 0) { dest[i] = Word(key, first + (ulong)i); i++; }
        if (Avx512F.IsSupported)
        {
            // Thirty-two blocks a step in 32-bit lanes, written straight to dest, while their counters' low halves do not wrap.
            fixed (uint* d = dest)
                for (; i + 128 <= n; i += 128)
                {
                    ulong counter = (first + (ulong)i) >> 2;
                    if ((uint)counter > uint.MaxValue - 31) break;
                    Block32(key, counter, d + i);
                }
            uint* outs = stackalloc uint[32];
            for (; i + 32 <= n; i += 32)
            {
                Block8(key, (first + (ulong)i) >> 2, outs);
                new ReadOnlySpan<uint>(outs, 32).CopyTo(dest.Slice(i, 32));
            }
        }
        if (Avx2.IsSupported)
        {
            uint* outs = stackalloc uint[16];
            for (; i + 16 <= n; i += 16)
            {
                Block4(key, (first + (ulong)i) >> 2, outs);
                new ReadOnlySpan<uint>(outs, 16).CopyTo(dest.Slice(i, 16));
            }
        }
        for (; i + 4 <= n; i += 4)
        {
            Block(key, (first + (ulong)i) >> 2, out uint a, out uint b, out uint c, out uint d);
            dest[i] = a; dest[i + 1] = b; dest[i + 2] = c; dest[i + 3] = d;
        }
        for (; i < n; i++) dest[i] = Word(key, first + (ulong)i);
    }

    /// <summary>
    /// Blocks for counters counter..counter+31 (the low halves not wrapping), one block per 32-bit lane, written as 128 words
    /// in stream order. Each 32 × 32 → 64-bit product is taken from two even-lane multiplies (the odd lanes shifted down),
    /// both halves from the same two: twice the words a multiply of <see cref="Block8"/>'s 64-bit lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Block32(ulong key, ulong counter, uint* outs)
    {
        var lanes = Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var c0 = Vector512.Create((uint)counter) + lanes;
        var d0 = c0 + Vector512.Create(16u);
        var c1 = Vector512.Create((uint)(counter >> 32));
        var d1 = c1;
        Vector512<uint> c2 = Vector512<uint>.Zero, c3 = Vector512<uint>.Zero, d2 = c2, d3 = c3;
        var m0 = Vector512.Create(M0);
        var m1 = Vector512.Create(M1);
        var odd = Vector512.Create(0u, ~0u, 0u, ~0u, 0u, ~0u, 0u, ~0u, 0u, ~0u, 0u, ~0u, 0u, ~0u, 0u, ~0u);
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        for (int round = 0; round < 10; round++)
        {
            // Two independent groups of sixteen blocks interleaved: a round's multiply-shift-select chain is long, and
            // one group alone left the multipliers waiting on it.
            var (h0, l0) = MulWide(c0, m0, odd);
            var (h1, l1) = MulWide(c2, m1, odd);
            var (g0, e0) = MulWide(d0, m0, odd);
            var (g1, e1) = MulWide(d2, m1, odd);
            var kk0 = Vector512.Create(k0);
            var kk1 = Vector512.Create(k1);
            c0 = h1 ^ c1 ^ kk0; c1 = l1; c2 = h0 ^ c3 ^ kk1; c3 = l0;
            d0 = g1 ^ d1 ^ kk0; d1 = e1; d2 = g0 ^ d3 ^ kk1; d3 = e0;
            k0 += W0; k1 += W1;
        }
        Store16(c0, c1, c2, c3, outs);
        Store16(d0, d1, d2, d3, outs + 64);
    }

    /// <summary>Writes sixteen blocks, lane j holding block j's words (c0, c1, c2, c3)[j], as 64 words in stream order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Store16(Vector512<uint> c0, Vector512<uint> c1, Vector512<uint> c2, Vector512<uint> c3, uint* outs)
    {
        // Lane j holds block j's words (c0, c1, c2, c3)[j]: a 4 × 16 transpose into stream order.
        var t0 = Avx512F.UnpackLow(c0, c1);    // per 128-bit quarter q: c0[4q] c1[4q] c0[4q+1] c1[4q+1]
        var t1 = Avx512F.UnpackHigh(c0, c1);   //                        c0[4q+2] c1[4q+2] c0[4q+3] c1[4q+3]
        var t2 = Avx512F.UnpackLow(c2, c3);
        var t3 = Avx512F.UnpackHigh(c2, c3);
        var b0 = Avx512F.UnpackLow(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();    // blocks 4q   per quarter
        var b1 = Avx512F.UnpackHigh(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();   // blocks 4q+1
        var b2 = Avx512F.UnpackLow(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();    // blocks 4q+2
        var b3 = Avx512F.UnpackHigh(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();   // blocks 4q+3
        // Quarter q of b0..b3 is blocks 4q..4q+3: gather quarters q of all four into output vector q.
        var u0 = Avx512F.Shuffle4x128(b0, b1, 0x44);   // b0.q0 b0.q1 b1.q0 b1.q1
        var u1 = Avx512F.Shuffle4x128(b2, b3, 0x44);   // b2.q0 b2.q1 b3.q0 b3.q1
        var u2 = Avx512F.Shuffle4x128(b0, b1, 0xEE);   // b0.q2 b0.q3 b1.q2 b1.q3
        var u3 = Avx512F.Shuffle4x128(b2, b3, 0xEE);
        Avx512F.Shuffle4x128(u0, u1, 0x88).Store(outs);        // b0.q0 b1.q0 b2.q0 b3.q0: blocks 0..3
        Avx512F.Shuffle4x128(u0, u1, 0xDD).Store(outs + 16);   // b0.q1 b1.q1 b2.q1 b3.q1: blocks 4..7
        Avx512F.Shuffle4x128(u2, u3, 0x88).Store(outs + 32);
        Avx512F.Shuffle4x128(u2, u3, 0xDD).Store(outs + 48);
    }

    /// <summary>
    /// The high and low halves of the 32 × 32-bit products a·b lane by lane, from two even-lane 64-bit multiplies
    /// (<paramref name="odd"/>: all ones in odd lanes). Multiplies are what limits the rounds: a low multiply besides
    /// them would be a third more.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector512<uint> High, Vector512<uint> Low) MulWide(Vector512<uint> a, Vector512<uint> b, Vector512<uint> odd)
    {
        var even = Avx512F.Multiply(a, b);                                                       // products of lanes 2i
        var oddProducts = Avx512F.Multiply(Vector512.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), b);   // of lanes 2i+1
        var high = Vector512.ConditionalSelect(odd, oddProducts.AsUInt32(), Vector512.ShiftRightLogical(even, 32).AsUInt32());
        var low = Vector512.ConditionalSelect(odd, Vector512.ShiftLeft(oddProducts, 32).AsUInt32(), even.AsUInt32());
        return (high, low);
    }

    /// <summary>Blocks for counters counter..counter+7 with AVX-512, written as 32 words in stream order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Block8(ulong key, ulong counter, uint* outs)
    {
        var mask = Vector512.Create(0xFFFFFFFFUL);
        var ctr = Vector512.Create(counter) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        Vector512<ulong> c0 = ctr & mask, c1 = Vector512.ShiftRightLogical(ctr, 32), c2 = Vector512<ulong>.Zero, c3 = Vector512<ulong>.Zero;
        var m0 = Vector512.Create((ulong)M0).AsUInt32();
        var m1 = Vector512.Create((ulong)M1).AsUInt32();
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        for (int round = 0; round < 10; round++)
        {
            var p0 = Avx512F.Multiply(c0.AsUInt32(), m0);
            var p1 = Avx512F.Multiply(c2.AsUInt32(), m1);
            var n0 = Vector512.ShiftRightLogical(p1, 32) ^ c1 ^ Vector512.Create((ulong)k0);
            var n2 = Vector512.ShiftRightLogical(p0, 32) ^ c3 ^ Vector512.Create((ulong)k1);
            c0 = n0; c1 = p1 & mask; c2 = n2; c3 = p0 & mask;
            k0 += W0; k1 += W1;
        }
        var a = c0 | Vector512.ShiftLeft(c1, 32);
        var b = c2 | Vector512.ShiftLeft(c3, 32);
        // Interleave a and b lane by lane: a0 b0 a1 b1 ... a7 b7.
        var idxLo = Vector512.Create(0UL, 8, 1, 9, 2, 10, 3, 11);
        var idxHi = Vector512.Create(4UL, 12, 5, 13, 6, 14, 7, 15);
        Avx512F.PermuteVar8x64x2(a, idxLo, b).Store((ulong*)outs);
        Avx512F.PermuteVar8x64x2(a, idxHi, b).Store((ulong*)outs + 8);
    }

    /// <summary>Blocks for counters counter..counter+3, written as 16 words in stream order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Block4(ulong key, ulong counter, uint* outs)
    {
        var mask = Vector256.Create(0xFFFFFFFFUL);
        var ctr = Vector256.Create(counter, counter + 1, counter + 2, counter + 3);
        Vector256<ulong> c0 = ctr & mask, c1 = Vector256.ShiftRightLogical(ctr, 32), c2 = Vector256<ulong>.Zero, c3 = Vector256<ulong>.Zero;
        var m0 = Vector256.Create((ulong)M0).AsUInt32();
        var m1 = Vector256.Create((ulong)M1).AsUInt32();
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        for (int round = 0; round < 10; round++)
        {
            var p0 = Avx2.Multiply(c0.AsUInt32(), m0);
            var p1 = Avx2.Multiply(c2.AsUInt32(), m1);
            var n0 = Vector256.ShiftRightLogical(p1, 32) ^ c1 ^ Vector256.Create((ulong)k0);
            var n2 = Vector256.ShiftRightLogical(p0, 32) ^ c3 ^ Vector256.Create((ulong)k1);
            c0 = n0; c1 = p1 & mask; c2 = n2; c3 = p0 & mask;
            k0 += W0; k1 += W1;
        }
        // Lane j's block is (c0, c1, c2, c3)[j]: pair the words as 64-bit values and interleave the lanes.
        var a = c0 | Vector256.ShiftLeft(c1, 32);                  // (c0 | c1<<32) per lane
        var b = c2 | Vector256.ShiftLeft(c3, 32);
        var lo = Avx2.UnpackLow(a, b);                               // a0 b0 | a2 b2
        var hi = Avx2.UnpackHigh(a, b);                              // a1 b1 | a3 b3
        Avx2.Permute2x128(lo, hi, 0x20).Store((ulong*)outs);         // a0 b0 a1 b1
        Avx2.Permute2x128(lo, hi, 0x31).Store((ulong*)outs + 4);     // a2 b2 a3 b3
    }
}
