using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Kernels.Attention;

/// <summary>
/// Scaled dot-product attention that never materialises the full L×S score matrix: queries go in blocks, keys
/// stream past in blocks with an online softmax (running max and sum), and backward recomputes each score block
/// from the saved log-sum-exp. Memory is O(block²) per thread instead of O(L·S) per head.
/// </summary>
/// <remarks>
/// Inputs are contiguous [BH, L, E], [BH / Group, S, E], [BH / Group, S, Ev] (query row bh reads key/value row bh / Group:
/// grouped-query attention without repeated keys); the additive mask is [BH or 1, L, S] or null. Backward writes dK and dV
/// per query row ([BH, S, E], [BH, S, Ev]); the caller sums each group.
/// </remarks>
internal static unsafe class FlashAttention
{
    const int BlockQ = 64, BlockK = 128;

    public struct Problem<T> where T : unmanaged
    {
        public int BH, L, S, E, Ev;
        /// <summary>Query heads per key/value head (1: none shared).</summary>
        public int Group;
        public T Scale;
        public bool Causal;
        public T* Q, K, V, Mask;
        public bool MaskPerBatch;
    }

    /// <summary>
    /// The output, and each query row's score max and exponential sum in <paramref name="stats"/> ([BH·L, 2]): kept apart,
    /// not as one log-sum-exp, because a row masked throughout by a finite minimum (Hugging Face's float.MinValue masks)
    /// has a max so large that adding log(sum) to it changes nothing, and its probabilities rebuilt from that sum came
    /// out `sum` times too large.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(Problem<T> p, T* output, T* stats) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Threads.For((long)p.BH * Blocks(p.L, BlockQ), 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (t0, t1) =>
        {
            T* s = Alloc<T>(BlockQ * BlockK), acc = Alloc<T>(BlockQ * p.Ev), m = Alloc<T>(BlockQ), l = Alloc<T>(BlockQ);
            try
            {
                for (long t = t0; t < t1; t++)
                {
                    int bh = (int)(t / Blocks(p.L, BlockQ)), q0 = (int)(t % Blocks(p.L, BlockQ)) * BlockQ, bq = Math.Min(BlockQ, p.L - q0);
                    T* q = p.Q + ((long)bh * p.L + q0) * p.E;
                    long kvh = bh / p.Group;
                    T* k = p.K + kvh * p.S * p.E, v = p.V + kvh * p.S * p.Ev;
                    for (int i = 0; i < bq; i++) { m[i] = T.NegativeInfinity; l[i] = T.Zero; }
                    new Span<T>(acc, bq * p.Ev).Clear();
                    int kEnd = p.Causal ? Math.Min(p.S, q0 + bq) : p.S;
                    for (int k0 = 0; k0 < kEnd; k0 += BlockK)
                    {
                        int bk = Math.Min(BlockK, kEnd - k0);
                        Scores(p, bh, q0, bq, k0, bk, q, k, s);
                        for (int i = 0; i < bq; i++)
                        {
                            T* row = s + i * BlockK;
                            T mx = T.Max(m[i], AttentionRows.Max(row, bk));
                            if (T.IsNegativeInfinity(mx)) { new Span<T>(row, bk).Clear(); continue; }
                            T correction = T.Exp(m[i] - mx), sum = AttentionRows.ExpShifted(row, bk, mx);
                            l[i] = l[i] * correction + sum;
                            m[i] = mx;
                            if (correction != T.One) AttentionRows.Scale(acc + i * p.Ev, p.Ev, correction);
                        }
                        // acc += P · V_block
                        BlockGemm.Multiply(bq, p.Ev, bk, T.One, s, BlockK, 1, v + (long)k0 * p.Ev, p.Ev, 1, T.One, acc, p.Ev);
                    }
                    T* o = output + ((long)bh * p.L + q0) * p.Ev;
                    for (int i = 0; i < bq; i++)
                    {
                        // A fully masked row has no weights: NaN, as softmax over all -inf gives.
                        AttentionRows.Scale(acc + i * p.Ev, o + i * p.Ev, p.Ev, T.One / l[i]);
                        long r = (long)bh * p.L + q0 + i;
                        stats[2 * r] = m[i];
                        stats[2 * r + 1] = l[i];
                    }
                }
            }
            finally { NativeMemory.Free(s); NativeMemory.Free(acc); NativeMemory.Free(m); NativeMemory.Free(l); }
        });
    }

    /// <summary>dQ, dK, dV from dO, recomputing P = exp(S - max) / sum block by block from <see cref="Forward"/>'s row statistics (no stored probabilities).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(Problem<T> p, T* output, T* stats, T* dOut, T* dq, T* dk, T* dv) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // One task per (batch·head): dK and dV sum over all query blocks of that head.
        Threads.For(p.BH, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b0, b1) =>
        {
            T* s = Alloc<T>(BlockQ * BlockK), dp = Alloc<T>(BlockQ * BlockK), d = Alloc<T>(BlockQ), lse = Alloc<T>(BlockQ);
            try
            {
                for (long bh = b0; bh < b1; bh++)
                {
                    long kvh = bh / p.Group;
                    T* k = p.K + kvh * p.S * p.E, v = p.V + kvh * p.S * p.Ev;
                    T* dkh = dk + bh * p.S * p.E, dvh = dv + bh * p.S * p.Ev;
                    new Span<T>(dkh, p.S * p.E).Clear();
                    new Span<T>(dvh, p.S * p.Ev).Clear();
                    for (int q0 = 0; q0 < p.L; q0 += BlockQ)
                    {
                        int bq = Math.Min(BlockQ, p.L - q0);
                        long rowBase = bh * p.L + q0;
                        T* q = p.Q + rowBase * p.E, o = output + rowBase * p.Ev, go = dOut + rowBase * p.Ev, gq = dq + rowBase * p.E;
                        new Span<T>(gq, bq * p.E).Clear();
                        for (int i = 0; i < bq; i++)
                        {
                            d[i] = AttentionRows.Dot(go + i * p.Ev, o + i * p.Ev, p.Ev);
                            lse[i] = LogSumExp(stats[2 * (rowBase + i)], stats[2 * (rowBase + i) + 1]);
                        }
                        int kEnd = p.Causal ? Math.Min(p.S, q0 + bq) : p.S;
                        for (int k0 = 0; k0 < kEnd; k0 += BlockK)
                        {
                            int bk = Math.Min(BlockK, kEnd - k0);
                            Scores(p, (int)bh, q0, bq, k0, bk, q, k, s);
                            for (int i = 0; i < bq; i++) Probabilities(s + i * BlockK, bk, lse[i], stats + 2 * (rowBase + i));
                            // dV += Pᵀ · dO ; dP = dO · Vᵀ
                            BlockGemm.Multiply(bk, p.Ev, bq, T.One, s, 1, BlockK, go, p.Ev, 1, T.One, dvh + (long)k0 * p.Ev, p.Ev);
                            BlockGemm.Multiply(bq, bk, p.Ev, T.One, go, p.Ev, 1, v + (long)k0 * p.Ev, 1, p.Ev, T.Zero, dp, BlockK);
                            for (int i = 0; i < bq; i++) AttentionRows.SoftmaxGrad(s + i * BlockK, dp + i * BlockK, bk, d[i]);
                            // dQ += scale · dS · K ; dK += scale · dSᵀ · Q
                            BlockGemm.Multiply(bq, p.E, bk, p.Scale, dp, BlockK, 1, k + (long)k0 * p.E, p.E, 1, T.One, gq, p.E);
                            BlockGemm.Multiply(bk, p.E, bq, p.Scale, dp, 1, BlockK, q, p.E, 1, T.One, dkh + (long)k0 * p.E, p.E);
                        }
                    }
                }
            }
            finally { NativeMemory.Free(s); NativeMemory.Free(dp); NativeMemory.Free(d); NativeMemory.Free(lse); }
        });
    }

    /// <summary>
    /// A row's log-sum-exp from its max and sum, or NaN where adding log(sum) to the max is lost to rounding (a row masked
    /// throughout by a finite minimum, whose sum counts its equal scores): <see cref="Probabilities"/> then divides by the sum.
    /// </summary>
    static T LogSumExp<T>(T max, T sum) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T lse = max + T.Log(sum);
        return lse == max && sum > T.One && T.IsFinite(max) ? T.NaN : lse;
    }

    /// <summary>A block's scores in place as probabilities: exp(s - lse), or exp(s - max) / sum where lse is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Probabilities<T>(T* row, int n, T lse, T* stats) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!T.IsNaN(lse)) { AttentionRows.ExpShifted(row, n, lse); return; }
        AttentionRows.ExpShifted(row, n, stats[0]);
        AttentionRows.Scale(row, n, T.One / stats[1]);
    }

    /// <summary>s[i, j] = scale · q_i·k_j + mask (and -∞ above the diagonal when causal).</summary>
    static void Scores<T>(Problem<T> p, int bh, int q0, int bq, int k0, int bk, T* q, T* k, T* s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        BlockGemm.Multiply(bq, bk, p.E, p.Scale, q, p.E, 1, k + (long)k0 * p.E, 1, p.E, T.Zero, s, BlockK);
        if (p.Mask != null)
        {
            T* mask = p.Mask + (p.MaskPerBatch ? (long)bh * p.L * p.S : 0);
            for (int i = 0; i < bq; i++) AttentionRows.Add(s + i * BlockK, mask + (long)(q0 + i) * p.S + k0, bk);
        }
        if (p.Causal)
            for (int i = 0; i < bq; i++)
            {
                int from = Math.Max(0, q0 + i + 1 - k0);
                if (from < bk) new Span<T>(s + i * BlockK + from, bk - from).Fill(T.NegativeInfinity);
            }
    }

    static int Blocks(int n, int b) => (n + b - 1) / b;

    static T* Alloc<T>(int count) where T : unmanaged => (T*)NativeMemory.Alloc((nuint)Math.Max(1, count), (nuint)sizeof(T));
}
