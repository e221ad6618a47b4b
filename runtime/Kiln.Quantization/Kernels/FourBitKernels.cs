using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Quantization.Kernels;

/// <summary>
/// CPU kernels over bitsandbytes' 4-bit layout: dequantization, and the fused product for decode-shaped inputs (a few
/// rows). Both widen 16 packed bytes at a time to 32-bit lanes, split them into high and low nibbles and look each half
/// up in the 16-entry code table held in one register (AVX-512 <c>vpermps</c>). The product never re-interleaves:
/// the input rows are split once into even and odd columns, so the high-nibble weights meet the even inputs and the low
/// ones the odd inputs; the block's absmax is applied once per block.
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
                        var first = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
                        var second = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
                        for (; i + 32 <= end; i += 32)
                        {
                            var (hi, lo) = Lookup(table, pp + i / 2);
                            hi = Avx512F.Multiply(hi, sc);
                            lo = Avx512F.Multiply(lo, sc);
                            Avx512F.Store(oo + i, Avx512F.PermuteVar16x32x2(hi, first, lo));
                            Avx512F.Store(oo + i + 16, Avx512F.PermuteVar16x32x2(hi, second, lo));
                        }
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

    /// <summary>The 16 bytes at <paramref name="p"/>: their high-nibble codes' values and their low-nibble codes' values (16 each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector512<float> Hi, Vector512<float> Lo) Lookup(Vector512<float> table, byte* p)
    {
        var v = Avx512F.ConvertToVector512Int32(Vector128.Load(p));
        var hi = Avx512F.ShiftRightLogical(v, 4);
        var lo = Avx512F.And(v, Vector512.Create(15));
        return (Avx512F.PermuteVar16x32(table, hi), Avx512F.PermuteVar16x32(table, lo));
    }

    /// <summary>
    /// y[r, j] = Σ_p x[r, p]·W[j, p] (+ bias[j]) for <paramref name="m"/> ≤ <see cref="MaxFusedRows"/> input rows, W the
    /// [n, k] 4-bit weight; needs k a multiple of the block size (blocks then never straddle rows) and of 32.
    /// </summary>
    public static void FusedMatmul(int m, int n, int k, float* x, byte* packed, float* code, float* absmax, int blocksize, float* bias, float* y)
    {
        int half = k / 2, blocksPerRow = k / blocksize;
        // Each input row split into its even columns then its odd columns: [m][2][k/2].
        var split = new float[m * k];
        fixed (float* sp = split)
        {
            float* s0 = sp;
            for (int r = 0; r < m; r++)
                for (int p = 0; p < half; p++) { s0[r * k + p] = x[(long)r * k + 2 * p]; s0[r * k + half + p] = x[(long)r * k + 2 * p + 1]; }
            Threads.For(n, 16, (s, e) =>
            {
                float* acc = stackalloc float[MaxFusedRows];
                for (long j = s; j < e; j++)
                {
                    byte* row = packed + j * half;
                    float* scales = absmax + j * blocksPerRow;
                    if (Avx512F.IsSupported && blocksize % 32 == 0) RowAvx512(m, k, s0, row, code, scales, blocksize, acc);
                    else RowScalar(m, k, x, row, code, scales, blocksize, acc);
                    float b = bias is null ? 0 : bias[j];
                    for (int r = 0; r < m; r++) y[(long)r * n + j] = acc[r] + b;
                }
            });
        }
    }

    // Up to four input rows against one weight row. High- and low-nibble products go to separate accumulators so each
    // FMA chain advances once per 16 bytes; a single row also unrolls two 16-byte steps (four chains: the FMA latency,
    // not the loads, bounded the one-row loop before).
    static void RowAvx512(int m, int k, float* split, byte* row, float* code, float* scales, int blocksize, float* acc)
    {
        if (m == 1 && blocksize % 64 == 0) { acc[0] = OneRow(k, split, row, code, scales, blocksize); return; }
        for (int r0 = 0; r0 < m; r0 += 4) FourRows(Math.Min(4, m - r0), k, split + (long)r0 * k, row, code, scales, blocksize, acc + r0);
    }

    static float OneRow(int k, float* split, byte* row, float* code, float* scales, int blocksize)
    {
        var table = Avx512F.LoadVector512(code);
        int half = k / 2;
        Vector512<float> t = default;
        for (int q0 = 0, blk = 0; q0 < half; q0 += blocksize / 2, blk++)
        {
            Vector512<float> h0 = default, l0 = default, h1 = default, l1 = default;
            for (int q = q0; q < q0 + blocksize / 2; q += 32)
            {
                var (wh0, wl0) = Lookup(table, row + q);
                var (wh1, wl1) = Lookup(table, row + q + 16);
                float* e = split + q;
                h0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e), wh0, h0);
                l0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + half), wl0, l0);
                h1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + 16), wh1, h1);
                l1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + 16 + half), wl1, l1);
            }
            t = Avx512F.FusedMultiplyAdd(Avx512F.Add(Avx512F.Add(h0, l0), Avx512F.Add(h1, l1)), Vector512.Create(scales[blk]), t);
        }
        return Vector512.Sum(t);
    }

    static void FourRows(int m, int k, float* split, byte* row, float* code, float* scales, int blocksize, float* acc)
    {
        var table = Avx512F.LoadVector512(code);
        int half = k / 2;
        Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default;
        for (int q0 = 0, blk = 0; q0 < half; q0 += blocksize / 2, blk++)
        {
            Vector512<float> h0 = default, l0 = default, h1 = default, l1 = default, h2 = default, l2 = default, h3 = default, l3 = default;
            for (int q = q0; q < q0 + blocksize / 2; q += 16)
            {
                // Bytes q..q+15 hold weights 2q.. (high nibbles: even columns, low: odd).
                var (wh, wl) = Lookup(table, row + q);
                float* e = split + q;
                h0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e), wh, h0);
                l0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + half), wl, l0);
                if (m > 1)
                {
                    h1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + k), wh, h1);
                    l1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + k + half), wl, l1);
                }
                if (m > 2)
                {
                    h2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + 2 * k), wh, h2);
                    l2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + 2 * k + half), wl, l2);
                }
                if (m > 3)
                {
                    h3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + 3 * k), wh, h3);
                    l3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(e + 3 * k + half), wl, l3);
                }
            }
            // The block's scale once per block per row.
            var sc = Vector512.Create(scales[blk]);
            t0 = Avx512F.FusedMultiplyAdd(Avx512F.Add(h0, l0), sc, t0);
            if (m > 1) t1 = Avx512F.FusedMultiplyAdd(Avx512F.Add(h1, l1), sc, t1);
            if (m > 2) t2 = Avx512F.FusedMultiplyAdd(Avx512F.Add(h2, l2), sc, t2);
            if (m > 3) t3 = Avx512F.FusedMultiplyAdd(Avx512F.Add(h3, l3), sc, t3);
        }
        acc[0] = Vector512.Sum(t0);
        if (m > 1) acc[1] = Vector512.Sum(t1);
        if (m > 2) acc[2] = Vector512.Sum(t2);
        if (m > 3) acc[3] = Vector512.Sum(t3);
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
