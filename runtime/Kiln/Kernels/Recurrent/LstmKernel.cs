using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Attention;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels.Recurrent;

/// <summary>
/// One LSTM layer direction over a whole sequence (the cuDNN-style fused layer): per step one GEMM for h·W_hhᵀ and
/// one pass for the gates, with the input projection precomputed for all steps. With a projection (<c>proj_size</c>)
/// the hidden state is h = W_hr·(o ⊙ tanh c), one more GEMM per step. Backward walks the steps in reverse with one GEMM
/// per step for dh and single GEMMs at the end for dW_hh and dW_hr.
/// </summary>
/// <remarks>
/// Layout: proj [T, N, 4H] (x·W_ihᵀ + biases, gate order i, f, g, o); output [T, N, P + H] holding h (P wide; P = H
/// without projection) then c of each step; gates [T, N, 4H] keeps the activated gates for backward.
/// With <c>lengths</c> (one per row), row r runs steps t &lt; lengths[r] only (a reverse direction starts at its own last
/// element); at the other steps its state is held, so the output there repeats the neighbouring state (the final state
/// forward, the initial one in reverse) and the usual last step reads each row's final state.
/// </remarks>
internal static unsafe class LstmKernel
{
    static int Prev(int t, bool reverse) => reverse ? t + 1 : t - 1;

    /// <summary>Whether row <paramref name="r"/> runs at step <paramref name="t"/> (every row does without lengths).</summary>
    internal static bool Runs(long* lengths, int t, long r) => lengths == null || t < lengths[r];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(int steps, int n, int h, int p, T* proj, T* h0, T* c0, T* whh, T* whr, T* hc, T* gates, long* lengths, bool reverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g4 = 4 * h, row = p + h;
        // W_hhᵀ (and W_hrᵀ) are the right operands of every step: pack them once.
        using var packed = typeof(T) == typeof(float) ? new Gemm.Sgemm.PackedB(p, g4, (float*)whh, 1, p) : null;
        using var packedR = typeof(T) == typeof(float) && whr != null ? new Gemm.Sgemm.PackedB(h, p, (float*)whr, 1, h) : null;
        var full = whr != null ? new T[n * h] : null;   // o ⊙ tanh c before the projection
        fixed (T* hf = full)
        {
            T* hfull = hf;
            for (int s = 0; s < steps; s++)
            {
                int t = reverse ? steps - 1 - s : s;
                T* gt = gates + (long)t * n * g4;
                new ReadOnlySpan<T>(proj + (long)t * n * g4, n * g4).CopyTo(new Span<T>(gt, n * g4));
                // gates += h_prev · W_hhᵀ  (A = h_prev with its row stride, B[k, j] = W_hh[j, k])
                T* hp = s == 0 ? h0 : hc + (long)Prev(t, reverse) * n * row;
                long rsh = s == 0 ? p : row;
                if (packed != null) Gemm.Sgemm.Multiply(n, 1f, (float*)hp, rsh, 1, packed, 1f, (float*)gt, g4);
                else BlockGemm.Multiply(n, g4, p, T.One, hp, rsh, 1, whh, 1, p, T.One, gt, g4);
                T* ct = hc + (long)t * n * row;
                Threads.For(n, 8, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
                {
                    for (long r = r0; r < r1; r++)
                    {
                        if (!Runs(lengths, t, r)) continue;
                        T* g = gt + r * g4;
                        T* cp = s == 0 ? c0 + r * h : hc + ((long)Prev(t, reverse) * n + r) * row + p;
                        T* cOut = ct + r * row + p;
                        T* hOut = hfull != null ? hfull + r * h : ct + r * row;
                        int j0 = typeof(T) == typeof(float) ? GatesForward256((float*)g, (float*)cp, (float*)cOut, (float*)hOut, h) : 0;
                        for (int j = j0; j < h; j++)
                        {
                            T i = Sigmoid(g[j]), f = Sigmoid(g[h + j]), gg = T.Tanh(g[2 * h + j]), o = Sigmoid(g[3 * h + j]);
                            g[j] = i; g[h + j] = f; g[2 * h + j] = gg; g[3 * h + j] = o;
                            T c = f * cp[j] + i * gg;
                            cOut[j] = c;
                            hOut[j] = o * T.Tanh(c);
                        }
                    }
                });
                // h = (o ⊙ tanh c) · W_hrᵀ, written into the output's h columns.
                if (packedR != null) Gemm.Sgemm.Multiply(n, 1f, (float*)hfull, h, 1, packedR, 0f, (float*)ct, row);
                else if (whr != null) BlockGemm.Multiply(n, p, h, T.One, hfull, h, 1, whr, 1, h, T.Zero, ct, row);
                if (lengths != null) Hold(n, p, h, t, s, reverse, h0, c0, hc, gt, lengths);
            }
        }
    }

    /// <summary>Rows not running at step t keep their previous state (h0/c0 before the first step); their gates read zero.</summary>
    static void Hold<T>(int n, int p, int h, int t, int s, bool reverse, T* h0, T* c0, T* hc, T* gt, long* lengths) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int row = p + h;
        for (long r = 0; r < n; r++)
        {
            if (Runs(lengths, t, r)) continue;
            T* dst = hc + ((long)t * n + r) * row;
            if (s == 0)
            {
                new ReadOnlySpan<T>(h0 + r * p, p).CopyTo(new Span<T>(dst, p));
                new ReadOnlySpan<T>(c0 + r * h, h).CopyTo(new Span<T>(dst + p, h));
            }
            else new ReadOnlySpan<T>(hc + ((long)Prev(t, reverse) * n + r) * row, row).CopyTo(new Span<T>(dst, row));
            new Span<T>(gt + r * 4 * h, 4 * h).Clear();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(int steps, int n, int h, int p, T* h0, T* c0, T* whh, T* whr, T* hc, T* gates, T* grad,
        T* dproj, T* dh0, T* dc0, T* dwhh, T* dwhr, T* hprevAll, long* lengths, bool reverse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g4 = 4 * h, row = p + h;
        var dhNext = new T[n * p];
        var dcNext = new T[n * h];
        // With a projection: each step's total dh (P wide) and o ⊙ tanh c, for the single dW_hr GEMM at the end.
        var dhAll = whr != null ? new T[(long)steps * n * p] : null;
        var fullAll = whr != null ? new T[(long)steps * n * h] : null;
        var dhFull = whr != null ? new T[n * h] : null;
        fixed (T* dhn = dhNext, dcn = dcNext, dha = dhAll, fa = fullAll, dfl = dhFull)
        {
            T* dhp = dhn, dcp = dcn, dhAllP = dha, fullP = fa, dhFullP = dfl;
            for (int s = steps - 1; s >= 0; s--)
            {
                int t = reverse ? steps - 1 - s : s;
                T* gt = gates + (long)t * n * g4, dg = dproj + (long)t * n * g4;
                T* gr = grad + (long)t * n * row, ct = hc + (long)t * n * row;
                // dh of this step's h: its own gradient plus what the next step sent back.
                for (int r = 0; r < n; r++)
                    for (int j = 0; j < p; j++) dhp[r * p + j] += gr[(long)r * row + j];
                T* dhGate = dhp;      // the gradient of o ⊙ tanh c, H wide
                if (whr != null)
                {
                    new ReadOnlySpan<T>(dhp, n * p).CopyTo(new Span<T>(dhAllP + (long)t * n * p, n * p));
                    // A held row's h is not a product of W_hr at this step.
                    for (long r = 0; r < n; r++)
                        if (!Runs(lengths, t, r)) new Span<T>(dhAllP + ((long)t * n + r) * p, p).Clear();
                    BlockGemm.Multiply(n, h, p, T.One, dhp, p, 1, whr, h, 1, T.Zero, dhFullP, h);
                    dhGate = dhFullP;
                }
                T* fullT = whr != null ? fullP + (long)t * n * h : null;
                Threads.For(n, 8, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
                {
                    for (long r = r0; r < r1; r++)
                    {
                        if (!Runs(lengths, t, r))
                        {
                            // A held state passes its gradient (and this step's own) on to the step before.
                            new Span<T>(dg + r * g4, g4).Clear();
                            T* gcr = gr + r * row + p, dch = dcp + r * h;
                            for (int j = 0; j < h; j++) dch[j] += gcr[j];
                            continue;
                        }
                        T* g = gt + r * g4, d = dg + r * g4, gc = gr + r * row + p, cRow = ct + r * row + p;
                        T* cp = s == 0 ? c0 + r * h : hc + ((long)Prev(t, reverse) * n + r) * row + p;
                        T* dhr = dhGate + r * h, dcr = dcp + r * h;
                        T* fr = fullT != null ? fullT + r * h : null;
                        int j0 = typeof(T) == typeof(float) ? GatesBackward256((float*)g, (float*)d, (float*)gc, (float*)cRow, (float*)cp, (float*)dhr, (float*)dcr, (float*)fr, h) : 0;
                        for (int j = j0; j < h; j++)
                        {
                            T i = g[j], f = g[h + j], gg = g[2 * h + j], o = g[3 * h + j];
                            T dh = dhr[j];
                            T tc = T.Tanh(cRow[j]);
                            if (fr != null) fr[j] = o * tc;
                            T dc = gc[j] + dcr[j] + dh * o * (T.One - tc * tc);
                            T dO = dh * tc, di = dc * gg, dgg = dc * i, df = dc * cp[j];
                            dcr[j] = dc * f;
                            d[j] = di * i * (T.One - i);
                            d[h + j] = df * f * (T.One - f);
                            d[2 * h + j] = dgg * (T.One - gg * gg);
                            d[3 * h + j] = dO * o * (T.One - o);
                        }
                    }
                });
                // dh_prev = dgates · W_hh (this overwrites dh, which the gate pass has consumed). Held rows keep theirs: the
                // running rows are cleared and the product added (a held row's dgates are zero).
                T beta = T.Zero;
                if (lengths != null)
                {
                    for (long r = 0; r < n; r++)
                        if (Runs(lengths, t, r)) new Span<T>(dhp + r * p, p).Clear();
                    beta = T.One;
                }
                BlockGemm.Multiply(n, p, g4, T.One, dg, g4, 1, whh, p, 1, beta, dhp, p);
                // The h that fed this step, gathered for the single dW_hh GEMM below.
                T* hp = s == 0 ? h0 : hc + (long)Prev(t, reverse) * n * row;
                long rsh = s == 0 ? p : row;
                T* dst = hprevAll + (long)t * n * p;
                for (int r = 0; r < n; r++) new ReadOnlySpan<T>(hp + r * rsh, p).CopyTo(new Span<T>(dst + (long)r * p, p));
            }
            new ReadOnlySpan<T>(dhp, n * p).CopyTo(new Span<T>(dh0, n * p));
            new ReadOnlySpan<T>(dcp, n * h).CopyTo(new Span<T>(dc0, n * h));
            int rows = steps * n;
            // dW_hh = Σ_t dgatesₜᵀ · h_prevₜ, one GEMM over all steps: [4H, T·N] · [T·N, P].
            BlockGemm.Multiply(g4, p, rows, T.One, dproj, 1, g4, hprevAll, p, 1, T.Zero, dwhh, p);
            // dW_hr = Σ_t dhₜᵀ · (o ⊙ tanh c)ₜ: [P, T·N] · [T·N, H].
            if (whr != null) BlockGemm.Multiply(p, h, rows, T.One, dhAllP, 1, p, fullP, h, 1, T.Zero, dwhr, h);
        }
    }

    /// <summary>The float gate math eight lanes at a time; returns how many columns it did (the rest go scalar).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int GatesForward256(float* g, float* cp, float* cOut, float* hOut, int h)
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
            c.Store(cOut + j);
            (o * FloatMath.Tanh(c)).Store(hOut + j);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int GatesBackward256(float* g, float* d, float* gc, float* cRow, float* cp, float* dhr, float* dcr, float* full, int h)
    {
        if (!Vector256.IsHardwareAccelerated) return 0;
        var one = Vector256.Create(1f);
        int j = 0;
        for (; j <= h - 8; j += 8)
        {
            var i = Vector256.Load(g + j); var f = Vector256.Load(g + h + j); var gg = Vector256.Load(g + 2 * h + j); var o = Vector256.Load(g + 3 * h + j);
            var dh = Vector256.Load(dhr + j);
            var tc = FloatMath.Tanh(Vector256.Load(cRow + j));
            if (full != null) (o * tc).Store(full + j);
            var dc = Vector256.Load(gc + j) + Vector256.Load(dcr + j) + dh * o * (one - tc * tc);
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
