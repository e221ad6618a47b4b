using System;

namespace Kiln.Quantization;

/// <summary>
/// bitsandbytes' blockwise quantizer, written once for the 4-bit codes and the 8-bit absmax codes: each block of
/// <c>blocksize</c> elements is scaled by 1/absmax (float32, clamped to [-1, 1]) and each value takes the index of the
/// nearest code, the lower index on a tie (an all-zero block takes index 0, as the reference's NaN does).
/// </summary>
internal static class Blockwise
{
    /// <summary>Quantizes <paramref name="src"/>: one code index per element into <paramref name="codes"/>, one absmax per block.</summary>
    public static void Quantize(ReadOnlySpan<float> src, ReadOnlySpan<float> code, bool codeSorted, int blocksize, Span<byte> codes, Span<float> absmax)
    {
        int blocks = (src.Length + blocksize - 1) / blocksize;
        for (int b = 0; b < blocks; b++)
        {
            int start = b * blocksize, end = Math.Min(src.Length, start + blocksize);
            float max = 0;
            for (int i = start; i < end; i++) max = Math.Max(max, Math.Abs(src[i]));
            absmax[b] = max;
            float inv = 1f / max;
            for (int i = start; i < end; i++)
            {
                float s = src[i] * inv;
                codes[i] = float.IsNaN(s) ? (byte)0 : Nearest(Math.Clamp(s, -1f, 1f), code, codeSorted);
            }
        }
    }

    /// <summary>The index of the code nearest <paramref name="s"/>, the lowest index among equals.</summary>
    public static byte Nearest(float s, ReadOnlySpan<float> code, bool sorted)
    {
        if (!sorted)
        {
            int best = 0;
            float bestD = Math.Abs(s - code[0]);
            for (int i = 1; i < code.Length; i++)
            {
                float d = Math.Abs(s - code[i]);
                if (d < bestD) { bestD = d; best = i; }
            }
            return (byte)best;
        }
        // Ascending table: the first entry >= s, then the nearer of it and its left neighbour (left on a tie).
        int lo = 0, hi = code.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (code[mid] < s) lo = mid + 1; else hi = mid;
        }
        if (lo > 0 && Math.Abs(s - code[lo - 1]) <= Math.Abs(s - code[lo])) lo--;
        // Equal codes (none in bitsandbytes' tables) would resolve to the first of them.
        while (lo > 0 && code[lo - 1] == code[lo]) lo--;
        return (byte)lo;
    }

    /// <summary>The block sizes bitsandbytes accepts.</summary>
    public static void CheckBlocksize(string op, int blocksize)
    {
        if (blocksize < 32 || blocksize > 4096 || (blocksize & (blocksize - 1)) != 0)
            throw new KilnException(op, $"{op}: blocksize must be a power of two from 32 to 4096, got {blocksize}");
    }
}
