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
                for (long r = start; r < end; r++)
                {
                    sbyte* row = cc + r * cols;
                    float* dst = oo + r * cols;
                    float scale = ss[r];
                    int j = 0;
                    if (Avx512F.IsSupported)
                    {
                        var sc = Vector512.Create(scale);
                        var inv = Vector512.Create(1f / 127f);
                        for (; j + 16 <= cols; j += 16)
                            Avx512F.Store(dst + j, Avx512F.Multiply(Avx512F.Multiply(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(row + j))), sc), inv));
                    }
                    for (; j < cols; j++) dst[j] = row[j] * scale * (1f / 127f);
                }
            });
        }
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
            if (m <= 4) Narrow(m, ld, c0, width, rows, w0, w1, acc);
            else Wide(m, ld, c0, width, rows, w0, w1, acc);
            float s0 = scb[j] * (1f / 127f), s1 = pair ? scb[j + 1] * (1f / 127f) : s0;
            for (int r = 0; r < m; r++) { acc[2 * r] *= s0; acc[2 * r + 1] *= s1; }
        }

        static Vector512<float> Widen(sbyte* p) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(p)));
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        static void Narrow(int m, int ld, int c0, int width, float* rows, sbyte* w0, sbyte* w1, float* acc)
        {
            Vector512<float> a00 = default, b00 = default, a01 = default, b01 = default, a10 = default, b10 = default, a11 = default, b11 = default, a20 = default, b20 = default, a21 = default, b21 = default, a30 = default, b30 = default, a31 = default, b31 = default;
            int p = c0, end = c0 + width;
            for (; p + 32 <= end; p += 32)
            {
                var u0 = Widen(w0 + p); var v0 = Widen(w0 + p + 16);
                var u1 = Widen(w1 + p); var v1 = Widen(w1 + p + 16);
                float* e = rows + p;
                var x0 = Avx512F.LoadVector512(e); var z0 = Avx512F.LoadVector512(e + 16);
                a00 = Avx512F.FusedMultiplyAdd(x0, u0, a00); b00 = Avx512F.FusedMultiplyAdd(z0, v0, b00);
                a01 = Avx512F.FusedMultiplyAdd(x0, u1, a01); b01 = Avx512F.FusedMultiplyAdd(z0, v1, b01);
                if (m > 1)
                {
                    var x1 = Avx512F.LoadVector512(e + ld); var z1 = Avx512F.LoadVector512(e + ld + 16);
                    a10 = Avx512F.FusedMultiplyAdd(x1, u0, a10); b10 = Avx512F.FusedMultiplyAdd(z1, v0, b10);
                    a11 = Avx512F.FusedMultiplyAdd(x1, u1, a11); b11 = Avx512F.FusedMultiplyAdd(z1, v1, b11);
                }
                if (m > 2)
                {
                    var x2 = Avx512F.LoadVector512(e + 2 * ld); var z2 = Avx512F.LoadVector512(e + 2 * ld + 16);
                    a20 = Avx512F.FusedMultiplyAdd(x2, u0, a20); b20 = Avx512F.FusedMultiplyAdd(z2, v0, b20);
                    a21 = Avx512F.FusedMultiplyAdd(x2, u1, a21); b21 = Avx512F.FusedMultiplyAdd(z2, v1, b21);
                }
                if (m > 3)
                {
                    var x3 = Avx512F.LoadVector512(e + 3 * ld); var z3 = Avx512F.LoadVector512(e + 3 * ld + 16);
                    a30 = Avx512F.FusedMultiplyAdd(x3, u0, a30); b30 = Avx512F.FusedMultiplyAdd(z3, v0, b30);
                    a31 = Avx512F.FusedMultiplyAdd(x3, u1, a31); b31 = Avx512F.FusedMultiplyAdd(z3, v1, b31);
                }
            }
            if (p < end)
            {
                // K is a multiple of 16: the last 16 columns of a chunk.
                var u0 = Widen(w0 + p); var u1 = Widen(w1 + p);
                float* e = rows + p;
                var x0 = Avx512F.LoadVector512(e); a00 = Avx512F.FusedMultiplyAdd(x0, u0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, u1, a01);
                if (m > 1) { var x1 = Avx512F.LoadVector512(e + ld); a10 = Avx512F.FusedMultiplyAdd(x1, u0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, u1, a11); }
                if (m > 2) { var x2 = Avx512F.LoadVector512(e + 2 * ld); a20 = Avx512F.FusedMultiplyAdd(x2, u0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, u1, a21); }
                if (m > 3) { var x3 = Avx512F.LoadVector512(e + 3 * ld); a30 = Avx512F.FusedMultiplyAdd(x3, u0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, u1, a31); }
            }
            acc[0] = Vector512.Sum(Avx512F.Add(a00, b00)); acc[1] = Vector512.Sum(Avx512F.Add(a01, b01));
            if (m > 1) { acc[2] = Vector512.Sum(Avx512F.Add(a10, b10)); acc[3] = Vector512.Sum(Avx512F.Add(a11, b11)); }
            if (m > 2) { acc[4] = Vector512.Sum(Avx512F.Add(a20, b20)); acc[5] = Vector512.Sum(Avx512F.Add(a21, b21)); }
            if (m > 3) { acc[6] = Vector512.Sum(Avx512F.Add(a30, b30)); acc[7] = Vector512.Sum(Avx512F.Add(a31, b31)); }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        static void Wide(int m, int ld, int c0, int width, float* rows, sbyte* w0, sbyte* w1, float* acc)
        {
            Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
            for (int p = c0; p < c0 + width; p += 16)
            {
                var u0 = Widen(w0 + p); var u1 = Widen(w1 + p);
                float* e = rows + p;
                var x0 = Avx512F.LoadVector512(e);
                a00 = Avx512F.FusedMultiplyAdd(x0, u0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, u1, a01);
                if (m > 1)
                {
                    var x1 = Avx512F.LoadVector512(e + ld);
                    a10 = Avx512F.FusedMultiplyAdd(x1, u0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, u1, a11);
                }
                if (m > 2)
                {
                    var x2 = Avx512F.LoadVector512(e + 2 * ld);
                    a20 = Avx512F.FusedMultiplyAdd(x2, u0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, u1, a21);
                }
                if (m > 3)
                {
                    var x3 = Avx512F.LoadVector512(e + 3 * ld);
                    a30 = Avx512F.FusedMultiplyAdd(x3, u0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, u1, a31);
                }
                if (m > 4)
                {
                    var x4 = Avx512F.LoadVector512(e + 4 * ld);
                    a40 = Avx512F.FusedMultiplyAdd(x4, u0, a40); a41 = Avx512F.FusedMultiplyAdd(x4, u1, a41);
                }
                if (m > 5)
                {
                    var x5 = Avx512F.LoadVector512(e + 5 * ld);
                    a50 = Avx512F.FusedMultiplyAdd(x5, u0, a50); a51 = Avx512F.FusedMultiplyAdd(x5, u1, a51);
                }
                if (m > 6)
                {
                    var x6 = Avx512F.LoadVector512(e + 6 * ld);
                    a60 = Avx512F.FusedMultiplyAdd(x6, u0, a60); a61 = Avx512F.FusedMultiplyAdd(x6, u1, a61);
                }
                if (m > 7)
                {
                    var x7 = Avx512F.LoadVector512(e + 7 * ld);
                    a70 = Avx512F.FusedMultiplyAdd(x7, u0, a70); a71 = Avx512F.FusedMultiplyAdd(x7, u1, a71);
                }
            }
            acc[0] = Vector512.Sum(a00); acc[1] = Vector512.Sum(a01);
            if (m > 1) { acc[2] = Vector512.Sum(a10); acc[3] = Vector512.Sum(a11); }
            if (m > 2) { acc[4] = Vector512.Sum(a20); acc[5] = Vector512.Sum(a21); }
            if (m > 3) { acc[6] = Vector512.Sum(a30); acc[7] = Vector512.Sum(a31); }
            if (m > 4) { acc[8] = Vector512.Sum(a40); acc[9] = Vector512.Sum(a41); }
            if (m > 5) { acc[10] = Vector512.Sum(a50); acc[11] = Vector512.Sum(a51); }
            if (m > 6) { acc[12] = Vector512.Sum(a60); acc[13] = Vector512.Sum(a61); }
            if (m > 7) { acc[14] = Vector512.Sum(a70); acc[15] = Vector512.Sum(a71); }
        }
    }
}
