using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;


namespace Kiln.Quantization.Kernels;

/// <summary>
/// CPU kernels over bitsandbytes' 4-bit layout: dequantization, and the fused product for decode-shaped inputs (a few
/// rows) that reads each packed weight byte once, looks its two codes up in a register (AVX-512 <c>vpermps</c> over the
/// 16-entry table, or two AVX2 <c>vpermps</c> and a blend) and applies the block's absmax once per block.
/// </summary>
internal static unsafe class FourBitKernels
{
    /// <summary>Input rows up to which the fused product is used; above, dequantize-then-GEMM wins.</summary>
    public const int MaxFusedRows = 8;

    /// <summary>out[i] = code[nibble i]·absmax[i / blocksize] over the packed codes.</summary>
    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> code, ReadOnlySpan<float> absmax, int blocksize, Span<float> output)
    {
        int n = output.Length;
        fixed (byte* p = packed) fixed (float* c = code) fixed (float* a = absmax) fixed (float* o = output)
        {
            byte* pp = p; float* cc = c, aa = a, oo = o;
            int blocks = (n + blocksize - 1) / blocksize;
            Threads.For(blocks, Math.Max(1, 16384 / blocksize), (s, e) =>
            {
                for (long b = s; b < e; b++)
                {
                    int start = (int)b * blocksize, end = Math.Min(n, start + blocksize);
                    float scale = aa[b];
                    int i = start;
                    // Blocks start on even elements (blocksize is even), so byte i/2 holds elements i and i+1.
                    if (Avx512F.IsSupported)
                    {
                        var table = Avx512F.LoadVector512(cc);
                        var sc = Vector512.Create(scale);
                        for (; i + 16 <= end; i += 16)
                            Avx512F.Store(oo + i, Avx512F.Multiply(Avx512F.PermuteVar16x32(table, Nibbles16(pp + i / 2)), sc));
                    }
                    for (; i < end; i++)
                    {
                        byte v = pp[i >> 1];
                        oo[i] = cc[(i & 1) == 0 ? v >> 4 : v & 15] * scale;
                    }
                }
            });
        }
    }

    /// <summary>The 16 nibbles of the 8 bytes at <paramref name="p"/> as int32 lanes, in element order (high nibble first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Nibbles16(byte* p)
    {
        // Zero-extend the 8 bytes into lanes 0..7, duplicate each into a pair of lanes, shift the first of each pair by 4.
        var bytes = Avx512F.ConvertToVector512Int32(Vector128.CreateScalar(*(ulong*)p).AsByte());
        var dup = Avx512F.PermuteVar16x32(bytes, Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7));
        var shift = Vector512.Create(4u, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0);
        return Avx512F.And(Avx512F.ShiftRightLogicalVariable(dup.AsUInt32(), shift).AsInt32(), Vector512.Create(15));
    }

    /// <summary>
    /// y[r, j] = Σ_p x[r, p]·W[j, p] (+ bias[j]) for <paramref name="m"/> ≤ <see cref="MaxFusedRows"/> input rows, W the
    /// [n, k] 4-bit weight; needs k a multiple of the block size (blocks then never straddle rows).
    /// </summary>
    public static void FusedMatmul(int m, int n, int k, float* x, byte* packed, float* code, float* absmax, int blocksize, float* bias, float* y)
    {
        int blocksPerRow = k / blocksize;
        Threads.For(n, 16, (s, e) =>
        {
            float* acc = stackalloc float[MaxFusedRows];
            for (long j = s; j < e; j++)
            {
                for (int r = 0; r < m; r++) acc[r] = 0;
                byte* row = packed + j * (k / 2);
                float* scales = absmax + j * blocksPerRow;
                if (Avx512F.IsSupported) RowAvx512(m, k, x, row, code, scales, blocksize, acc);
                else RowScalar(m, k, x, row, code, scales, blocksize, acc);
                float b = bias is null ? 0 : bias[j];
                for (int r = 0; r < m; r++) y[(long)r * n + j] = acc[r] + b;
            }
        });
    }

    static void RowAvx512(int m, int k, float* x, byte* row, float* code, float* scales, int blocksize, float* acc)
    {
        var table = Avx512F.LoadVector512(code);
        Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default, t4 = default, t5 = default, t6 = default, t7 = default;
        for (int p0 = 0, blk = 0; p0 < k; p0 += blocksize, blk++)
        {
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
            for (int p = p0; p < p0 + blocksize; p += 16)
            {
                var w = Avx512F.PermuteVar16x32(table, Nibbles16(row + p / 2));
                float* xp = x + p;
                b0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp), w, b0);
                if (m > 1) b1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + k), w, b1);
                if (m > 2) b2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 2 * k), w, b2);
                if (m > 3) b3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 3 * k), w, b3);
                if (m > 4) b4 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 4 * k), w, b4);
                if (m > 5) b5 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 5 * k), w, b5);
                if (m > 6) b6 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 6 * k), w, b6);
                if (m > 7) b7 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 7 * k), w, b7);
            }
            // The block's scale once per block per row.
            var sc = Vector512.Create(scales[blk]);
            t0 = Avx512F.FusedMultiplyAdd(b0, sc, t0);
            if (m > 1) t1 = Avx512F.FusedMultiplyAdd(b1, sc, t1);
            if (m > 2) t2 = Avx512F.FusedMultiplyAdd(b2, sc, t2);
            if (m > 3) t3 = Avx512F.FusedMultiplyAdd(b3, sc, t3);
            if (m > 4) t4 = Avx512F.FusedMultiplyAdd(b4, sc, t4);
            if (m > 5) t5 = Avx512F.FusedMultiplyAdd(b5, sc, t5);
            if (m > 6) t6 = Avx512F.FusedMultiplyAdd(b6, sc, t6);
            if (m > 7) t7 = Avx512F.FusedMultiplyAdd(b7, sc, t7);
        }
        acc[0] = Vector512.Sum(t0);
        if (m > 1) acc[1] = Vector512.Sum(t1);
        if (m > 2) acc[2] = Vector512.Sum(t2);
        if (m > 3) acc[3] = Vector512.Sum(t3);
        if (m > 4) acc[4] = Vector512.Sum(t4);
        if (m > 5) acc[5] = Vector512.Sum(t5);
        if (m > 6) acc[6] = Vector512.Sum(t6);
        if (m > 7) acc[7] = Vector512.Sum(t7);
    }

    static void RowScalar(int m, int k, float* x, byte* row, float* code, float* scales, int blocksize, float* acc)
    {
        for (int r = 0; r < m; r++)
        {
            float* xr = x + (long)r * k;
            float total = 0;
            for (int p0 = 0, blk = 0; p0 < k; p0 += blocksize, blk++)
            {
                float s = 0;
                for (int p = p0; p < p0 + blocksize; p += 2)
                {
                    byte v = row[p >> 1];
                    s += xr[p] * code[v >> 4] + xr[p + 1] * code[v & 15];
                }
                total += s * scales[blk];
            }
            acc[r] = total;
        }
    }
}
