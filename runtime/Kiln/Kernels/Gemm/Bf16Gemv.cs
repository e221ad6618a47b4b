using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Gemm;

/// <summary>
/// y = x·Wᵀ (+ b) for a few rows x [m, k] (float32) against a bfloat16 weight W [n, k] read as it is stored: each 16-bit
/// value widened to float32 in registers (a zero-extend and a 16-bit shift), never a converted copy of W. Decoding with
/// bf16 weights is bound by reading them, so this halves the bytes an fp32 weight costs; converting W per call (the
/// general bf16 GEMM path) costs several times more than the product itself.
/// </summary>
internal static unsafe class Bf16Gemv
{
    /// <summary>Rows up to which this kernel is used (decode-shaped products).</summary>
    public const int MaxRows = 16;

    public static void Multiply(int m, int n, int k, float* x, ushort* w, float* bias, float* y)
    {
        Threads.For(n, 32, (s, e) =>
        {
            for (long j = s; j < e; j++)
            {
                ushort* row = w + j * k;
                for (int i = 0; i < m; i += 4) Dot4(Math.Min(4, m - i), k, x + (long)i * k, row, y + (long)i * n + j, n, bias is null ? 0 : bias[j]);
            }
        });
    }

    // Up to four input rows against one weight row: y[r·n] = Σ x[r, p]·w[p] + b. (Eight accumulators with per-row
    // branches measured slower at batch 8: 88 vs 57 ms per decode step on 1 thread.)
    static void Dot4(int rows, int k, float* x, ushort* w, float* y, int n, float b)
    {
        Span<float> acc = stackalloc float[4];
        int p = 0;
        if (Avx2.IsSupported && Fma.IsSupported && k >= 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; p + 8 <= k; p += 8)
            {
                var wv = Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(w + p), 16).AsSingle();
                a0 = Fma.MultiplyAdd(Avx.LoadVector256(x + p), wv, a0);
                if (rows > 1) a1 = Fma.MultiplyAdd(Avx.LoadVector256(x + k + p), wv, a1);
                if (rows > 2) a2 = Fma.MultiplyAdd(Avx.LoadVector256(x + 2L * k + p), wv, a2);
                if (rows > 3) a3 = Fma.MultiplyAdd(Avx.LoadVector256(x + 3L * k + p), wv, a3);
            }
            acc[0] = Vector256.Sum(a0); acc[1] = Vector256.Sum(a1); acc[2] = Vector256.Sum(a2); acc[3] = Vector256.Sum(a3);
        }
        for (; p < k; p++)
        {
            float wv = BitConverter.Int32BitsToSingle(w[p] << 16);
            for (int r = 0; r < rows; r++) acc[r] += x[(long)r * k + p] * wv;
        }
        for (int r = 0; r < rows; r++) y[(long)r * n] = acc[r] + b;
    }
}
