using System;
using System.Runtime.Intrinsics.X86;

namespace Kiln.TensorBoard;

/// <summary>CRC-32C (Castagnoli), the checksum of TFRecord framing; the SSE4.2 instruction where available, a table otherwise.</summary>
internal static class Crc32C
{
    static readonly uint[] Table = BuildTable(0x82F63B78u);

    /// <summary>The byte-at-a-time lookup table of a reflected CRC-32 with <paramref name="polynomial"/> (shared with the PNG CRC).</summary>
    internal static uint[] BuildTable(uint polynomial)
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? polynomial ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        int i = 0;
        if (Sse42.X64.IsSupported)
        {
            ulong c = crc;
            for (; i + 8 <= data.Length; i += 8) c = Sse42.X64.Crc32(c, BitConverter.ToUInt64(data.Slice(i, 8)));
            crc = (uint)c;
        }
        if (Sse42.IsSupported) for (; i < data.Length; i++) crc = Sse42.Crc32(crc, data[i]);
        for (; i < data.Length; i++) crc = Table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    /// <summary>TFRecord's masked CRC: rotate right by 15 and add a constant (so CRCs of CRCs stay well distributed).</summary>
    public static uint Masked(ReadOnlySpan<byte> data)
    {
        uint c = Compute(data);
        return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
    }
}
