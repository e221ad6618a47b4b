using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Elementwise;
using Kiln.Kernels.Attention;

namespace Kiln.Kernels.Recurrent;

/// <summary>
/// One LSTM layer direction over a whole sequence (the cuDNN-style fused layer): per step one GEMM for h·W_hhᵀ and
/// one pass for the gates, with the input projection precomputed for all steps. Backward walks the steps in
/// reverse with one GEMM per step for dh and a single GEMM at the end for dW_hh.
/// </summary>
/// <remarks>
/// Layout: proj [T, N, 4H] (x·W_ihᵀ + biases, gate order i, f, g, o); output hc [T, N, 2H] holding h then c of each
/// step; gates [T, N, 4H] keeps the activated gates for backward.
/// </remarks>
internal static unsafe class LstmKernel
{
    static int Prev(int t, bool reverse) => reverse ? t + 1 : t - 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(int steps, int n, int h, T* proj, T* h0, T* c0, T* whh, T* hc, T* gates, bool reverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g4 = 4 * h, h2 = 2 * h;
        // W_hhᵀ is the right operand of every step: pack it once.
        using var packed = typeof(T) == typeof(float) ? new Gemm.Sgemm.PackedB(h, g4, (float*)whh, 1, h) : null;
        for (int s = 0; s < steps; s++)
        {
            int t = reverse ? steps - 1 - s : s;
            T* gt = gates + (long)t * n * g4;
            new ReadOnlySpan<T>(proj + (long)t * n * g4, n * g4).CopyTo(new Span<T>(gt, n * g4));
            // gates += h_prev · W_hhᵀ  (A = h_prev with its row stride, B[k, j] = W_hh[j, k])
            T* hp = s == 0 ? h0 : hc + (long)Prev(t, reverse) * n * h2;
            long rsh = s == 0 ? h : h2;
            if (packed != null) Gemm.Sgemm.Multiply(n, 1f, (float*)hp, rsh, 1, packed, 1f, (float*)gt, g4);
            else BlockGemm.Multiply(n, g4, h, T.One, hp, rsh, 1, whh, 1, h, T.One, gt, g4);
            T* ct = hc + (long)t * n * h2;
            Threads.For(n, 8, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
            {
                for (long r = r0; r < r1; r++)
                {
                    T* g = gt + r * g4;
                    T* cp = s == 0 ? c0 + r * h : hc + ((long)Prev(t, reverse) * n + r) * h2 + h;
                    T* outRow = ct + r * h2;
                    int j0 = typeof(T) == typeof(float) ? GatesForward256((float*)g, (float*)cp, (float*)outRow, h) : 0;
                    for (int j = j0; j < h; j++)
                    {
                        T i = Sigmoid(g[j]), f = Sigmoid(g[h + j]), gg = T.Tanh(g[2 * h + j]), o = Sigmoid(g[3 * h + j]);
                        g[j] = i; g[h + j] = f; g[2 * h + j] = gg; g[3 * h + j] = o;
                        T c = f * cp[j] + i * gg;
                        outRow[h + j] = c;
                        outRow[j] = o * T.Tanh(c);
                    }
                }
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(int steps, int n, int h, T* h0, T* c0, T* whh, T* hc, T* gates, T* grad,
        T* dproj, T* dh0, T* dc0, T* dwhh, T* hprevAll, bool reverse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g4 = 4 * h, h2 = 2 * h;
        var dhNext = new T[n * h];
        var dcNext = new T[n * h];
        fixed (T* dhn = dhNext, dcn = dcNext)
        {
            T* dhp = dhn, dcp = dcn;
            for (int s = steps - 1; s >= 0; s--)
            {
                int t = reverse ? steps - 1 - s : s;
                T* gt = gates + (long)t * n * g4, dg = dproj + (long)t * n * g4;
                T* gr = grad + (long)t * n * h2, ct = hc + (long)t * n * h2;
                Threads.For(n, 8, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
                {
                    for (long r = r0; r < r1; r++)
                    {
                        T* g = gt + r * g4, d = dg + r * g4, go = gr + r * h2, row = ct + r * h2;
                        T* cp = s == 0 ? c0 + r * h : hc + ((long)Prev(t, reverse) * n + r) * h2 + h;
                        T* dhr = dhp + r * h, dcr = dcp + r * h;
                        int j0 = typeof(T) == typeof(float) ? GatesBackward256((float*)g, (float*)d, (float*)go, (float*)row, (float*)cp, (float*)dhr, (float*)dcr, h) : 0;
                        for (int j = j0; j < h; j++)
                        {
                            T i = g[j], f = g[h + j], gg = g[2 * h + j], o = g[3 * h + j];
                            T dh = go[j] + dhr[j];
                            T tc = T.Tanh(row[h + j]);
                            T dc = go[h + j] + dcr[j] + dh * o * (T.One - tc * tc);
                            T dO = dh * tc, di = dc * gg, dgg = dc * i, df = dc * cp[j];
                            dcr[j] = dc * f;
                            d[j] = di * i * (T.One - i);
                            d[h + j] = df * f * (T.One - f);
                            d[2 * h + j] = dgg * (T.One - gg * gg);
                            d[3 * h + j] = dO * o * (T.One - o);
                        }
                    }
                });
                // dh_prev = dgates · W_hh
                BlockGemm.Multiply(n, h, g4, T.One, dg, g4, 1, whh, h, 1, T.Zero, dhp, h);
                // The h that fed this step, gathered for the single dW_hh GEMM below.
                T* hp = s == 0 ? h0 : hc + (long)Prev(t, reverse) * n * h2;
                long rsh = s == 0 ? h : h2;
                T* dst = hprevAll + (long)t * n * h;
                for (int r = 0; r < n; r++) new ReadOnlySpan<T>(hp + r * rsh, h).CopyTo(new Span<T>(dst + (long)r * h, h));
            }
            new ReadOnlySpan<T>(dhp, n * h).CopyTo(new Span<T>(dh0, n * h));
            new ReadOnlySpan<T>(dcp, n * h).CopyTo(new Span<T>(dc0, n * h));
        }
        // dW_hh = Σ_t dgatesₜᵀ · h_prevₜ, one GEMM over all steps: [4H, T·N] · [T·N, H].
        int rows = steps * n;
        BlockGemm.Multiply(g4, h, rows, T.One, dproj, 1, g4, hprevAll, h, 1, T.Zero, dwhh, h);
    }

    /// <summary>The float gate math eight lanes at a time; returns how many columns it did (the rest go scalar).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int GatesForward256(float* g, float* cp, float* outRow, int h)
    {
        if (!Vector256.IsHardwareAccelerated) return 0;
        int j = 0;
        for (; j <= h - 8; j += 8)
        {
            var i = FloatMath.Sigmoid(Vector256.Load(g + j));
            var f = FloatMath.Sigmoid(Vector256.Load(g + h + j));
            var gg = FloatMath.Tanh(Vector256.Load(g + 2 * h + j));
            var o = FloatMath.Sigmoid(Vector256.Load(g + 3 * h + j));
            i.Store(g + j); f.Store(g + h + j); gg.Store(g + 2 * h + j); o.Store(g + 3 * h + j);
            var c = f * Vector256.Load(cp + j) + i * gg;
            c.Store(outRow + h + j);
            (o * FloatMath.Tanh(c)).Store(outRow + j);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int GatesBackward256(float* g, float* d, float* go, float* row, float* cp, float* dhr, float* dcr, int h)
    {
        if (!Vector256.IsHardwareAccelerated) return 0;
        var one = Vector256.Create(1f);
        int j = 0;
        for (; j <= h - 8; j += 8)
        {
            var i = Vector256.Load(g + j); var f = Vector256.Load(g + h + j); var gg = Vector256.Load(g + 2 * h + j); var o = Vector256.Load(g + 3 * h + j);
            var dh = Vector256.Load(go + j) + Vector256.Load(dhr + j);
            var tc = FloatMath.Tanh(Vector256.Load(row + h + j));
            var dc = Vector256.Load(go + h + j) + Vector256.Load(dcr + j) + dh * o * (one - tc * tc);
            (dc * f).Store(dcr + j);
            (dc * gg * i * (one - i)).Store(d + j);
            (dc * Vector256.Load(cp + j) * f * (one - f)).Store(d + h + j);
            (dc * i * (one - gg * gg)).Store(d + 2 * h + j);
            (dh * tc * o * (one - o)).Store(d + 3 * h + j);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));
}
