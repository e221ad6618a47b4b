using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Quantization.Kernels;

/// <summary>
/// The fused product of a few input rows with an LLM.int8 row-wise weight: int8 rows widened in registers and dotted
/// with the inputs (<see cref="FewRowsProduct"/>), each row's scale SCB/127 applied to its sums.
/// </summary>
internal static unsafe class Int8Kernels
{
    /// <summary>Input rows up to which the fused product is used.</summary>
    public const int MaxFusedRows = FewRowsProduct.MaxRows;

    /// <summary>out[r, j] = code[r, j]·SCB[r]·(1/127) (in that order of float32 operations, as the reference).</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> codes, ReadOnlySpan<float> scb, int cols, Span<float> output)
    {
        int rows = scb.Length;
        fixed (sbyte* c = codes) fixed (float* s = scb) fixed (float* o = output)
        {
            sbyte* cc = c; float* ss = s, oo = o;
            Threads.For(rows, Math.Max(1, 65536 / Math.Max(1, cols)), (start, end) =>
            {
                for (long r = start; r < end; r++) DequantizeRun(cc + r * cols, ss[r], cols, oo + r * cols);
            });
        }
    }

    /// <summary>dst[j] = code[j]·scale·(1/127) for j &lt; <paramref name="count"/>: a run of one row whose SCB is <paramref name="scale"/>.</summary>
    internal static void DequantizeRun(sbyte* codes, float scale, int count, float* dst)
    {
        int j = 0;
        if (Avx512F.IsSupported)
        {
            var sc = Vector512.Create(scale);
            var inv = Vector512.Create(1f / 127f);
            for (; j + 16 <= count; j += 16)
                Avx512F.Store(dst + j, Avx512F.Multiply(Avx512F.Multiply(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(codes + j))), sc), inv));
        }
        for (; j < count; j++) dst[j] = codes[j] * scale * (1f / 127f);
    }

    /// <summary>y[r, j] = (SCB[j]/127)·Σ_p x[r, p]·code[j, p] (+ bias[j]) for m ≤ <see cref="MaxFusedRows"/>.</summary>
    public static void FusedMatmul(int m, int n, int k, float* x, sbyte* codes, float* scb, float* bias, float* y)
    {
        if (!Avx512F.IsSupported || k % 16 != 0)
        {
            Threads.For(n, 16, (s, e) =>
            {
                for (long j = s; j < e; j++)
                {
                    sbyte* row = codes + j * k;
                    float scale = scb[j] * (1f / 127f), b = bias is null ? 0 : bias[j];
                    for (int r = 0; r < m; r++)
                    {
                        float a = 0;
                        for (int p = 0; p < k; p++) a += x[(long)r * k + p] * row[p];
                        y[(long)r * n + j] = a * scale + b;
                    }
                }
            });
            return;
        }
        int ld = FewRowsProduct.Stride(k);
        var buffer = FewRowsProduct.Rent(m * ld);
        try
        {
            fixed (float* bp = buffer)
            {
                float* rows = FewRowsProduct.Aligned(bp);
                for (int r = 0; r < m; r++) new ReadOnlySpan<float>(x + (long)r * k, k).CopyTo(new Span<float>(rows + (long)r * ld, k));
                var tile = new Int8Tile(codes, scb, k);
                Threads.For(n, 16, (s, e) => FewRowsProduct.Run(tile, m, n, k, ld, rows, (byte*)codes, bias, y, s, e));
            }
        }
        finally
        {
            FewRowsProduct.Return(buffer);
        }
    }

    /// <summary>
    /// The int8 tile of <see cref="FewRowsProduct"/>: 16 codes widened to floats per row and step, SCB/127 applied to each
    /// chunk's sums. Up to four input rows run two steps at a time into separate accumulators (one chain per row and weight
    /// row would wait on FMA latency).
    /// </summary>
    readonly struct Int8Tile(sbyte* codes, float* scb, int k) : IRowPairTile
    {
        public long RowBytes => k;
        public int Granule => 32;
        public (long Offset, int Bytes) Span(long j, int c0, int width) => (j * k + c0, width);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int m, int ld, int c0, int width, float* rows, long j, bool pair, float* acc)
        {
            sbyte* w0 = codes + j * k, w1 = pair ? w0 + k : w0;
            if (m <= 4) QuantTiles.Int8PairNarrow(m, ld, c0, width, rows, w0, w1, acc);
            else QuantTiles.Int8Pair(m, ld, c0, width, rows, w0, w1, acc);
            float s0 = scb[j] * (1f / 127f), s1 = pair ? scb[j + 1] * (1f / 127f) : s0;
            for (int r = 0; r < m; r++) { acc[2 * r] *= s0; acc[2 * r + 1] *= s1; }
        }
    }
}
