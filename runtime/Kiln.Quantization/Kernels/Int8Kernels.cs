using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Quantization.Kernels;

/// <summary>
/// The fused product of a few input rows with an LLM.int8 row-wise weight: each int8 row is widened in registers and
/// dotted with the inputs; its scale SCB/127 is applied once per output.
/// </summary>
internal static unsafe class Int8Kernels
{
    /// <summary>Input rows up to which the fused product is used.</summary>
    public const int MaxFusedRows = 8;

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
        Threads.For(n, 16, (s, e) =>
        {
            float* acc = stackalloc float[MaxFusedRows];
            for (long j = s; j < e; j++)
            {
                sbyte* row = codes + j * k;
                int p = 0;
                for (int r = 0; r < m; r++) acc[r] = 0;
                if (Avx512F.IsSupported)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    for (; p + 16 <= k; p += 16)
                    {
                        var w = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(row + p)));
                        float* xp = x + p;
                        a0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp), w, a0);
                        if (m > 1) a1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + k), w, a1);
                        if (m > 2) a2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 2 * k), w, a2);
                        if (m > 3) a3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 3 * k), w, a3);
                        if (m > 4) a4 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 4 * k), w, a4);
                        if (m > 5) a5 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 5 * k), w, a5);
                        if (m > 6) a6 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 6 * k), w, a6);
                        if (m > 7) a7 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(xp + 7 * k), w, a7);
                    }
                    acc[0] = Vector512.Sum(a0);
                    if (m > 1) acc[1] = Vector512.Sum(a1);
                    if (m > 2) acc[2] = Vector512.Sum(a2);
                    if (m > 3) acc[3] = Vector512.Sum(a3);
                    if (m > 4) acc[4] = Vector512.Sum(a4);
                    if (m > 5) acc[5] = Vector512.Sum(a5);
                    if (m > 6) acc[6] = Vector512.Sum(a6);
                    if (m > 7) acc[7] = Vector512.Sum(a7);
                }
                for (; p < k; p++)
                    for (int r = 0; r < m; r++) acc[r] += x[(long)r * k + p] * row[p];
                float scale = scb[j] * (1f / 127f), b = bias is null ? 0 : bias[j];
                for (int r = 0; r < m; r++) y[(long)r * n + j] = acc[r] * scale + b;
            }
        });
    }
}
