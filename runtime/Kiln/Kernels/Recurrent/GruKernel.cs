using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Elementwise;
using Kiln.Kernels.Attention;

namespace Kiln.Kernels.Recurrent;

/// <summary>
/// One GRU layer direction over a whole sequence (fused like <see cref="LstmKernel"/>): per step one GEMM for
/// h·W_hhᵀ + b_hh and one pass for the gates; backward walks the steps in reverse.
/// </summary>
/// <remarks>
/// Layout: proj [T, N, 3H] (x·W_ihᵀ + b_ih, gate order r, z, n); output [T, N, H]; saved [T, N, 4H] holds r, z, n and
/// the hidden part of n's pre-activation (W_hn·h + b_hn) for backward. With <c>lengths</c>, rows past their length hold
/// their state as <see cref="LstmKernel"/> describes.
/// </remarks>
internal static unsafe class GruKernel
{
    static int Prev(int t, bool reverse) => reverse ? t + 1 : t - 1;

    static bool Runs(long* lengths, int t, long r) => LstmKernel.Runs(lengths, t, r);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(int steps, int n, int h, T* proj, T* h0, T* whh, T* bhh, T* output, T* saved, long* lengths, bool reverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g3 = 3 * h, g4 = 4 * h;
        var hpBuf = new T[n * g3];
        // W_hhᵀ is the right operand of every step: pack it once.
        using var packed = typeof(T) == typeof(float) ? new Gemm.Sgemm.PackedB(h, g3, (float*)whh, 1, h) : null;
        fixed (T* hp = hpBuf)
        {
            T* hpp = hp;
            for (int s = 0; s < steps; s++)
            {
                int t = reverse ? steps - 1 - s : s;
                T* hprev = s == 0 ? h0 : output + (long)Prev(t, reverse) * n * h;
                for (int r = 0; r < n; r++)
                    for (int j = 0; j < g3; j++) hpp[r * g3 + j] = bhh != null ? bhh[j] : T.Zero;
                if (packed != null) Gemm.Sgemm.Multiply(n, 1f, (float*)hprev, h, 1, packed, 1f, (float*)hpp, g3);
                else BlockGemm.Multiply(n, g3, h, T.One, hprev, h, 1, whh, 1, h, T.One, hpp, g3);
                T* xt = proj + (long)t * n * g3, ht = output + (long)t * n * h, sv = saved + (long)t * n * g4;
                Threads.For(n, 8, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
                {
                    for (long r = r0; r < r1; r++)
                    {
                        if (!Runs(lengths, t, r))
                        {
                            // Held: the previous state carries over; nothing saved for backward.
                            new ReadOnlySpan<T>(hprev + r * h, h).CopyTo(new Span<T>(ht + r * h, h));
                            new Span<T>(sv + r * g4, g4).Clear();
                            continue;
                        }
                        T* x = xt + r * g3, q = hpp + r * g3, o = ht + r * h, sr = sv + r * g4, hp0 = hprev + r * h;
                        int j0 = typeof(T) == typeof(float) ? Gates256((float*)x, (float*)q, (float*)o, (float*)sr, (float*)hp0, h) : 0;
                        for (int j = j0; j < h; j++)
                        {
                            T rg = Sigmoid(x[j] + q[j]), z = Sigmoid(x[h + j] + q[h + j]);
                            T hn = q[2 * h + j];
                            T nn = T.Tanh(x[2 * h + j] + rg * hn);
                            o[j] = nn + z * (hp0[j] - nn);
                            sr[j] = rg; sr[h + j] = z; sr[2 * h + j] = nn; sr[3 * h + j] = hn;
                        }
                    }
                });
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(int steps, int n, int h, T* h0, T* whh, T* output, T* saved, T* grad,
        T* dproj, T* dh0, T* dwhh, T* dbhh, T* dhpAll, T* hprevAll, long* lengths, bool reverse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int g3 = 3 * h, g4 = 4 * h;
        var dhNext = new T[n * h];
        fixed (T* dhn = dhNext)
        {
            T* dhp = dhn;
            for (int s = steps - 1; s >= 0; s--)
            {
                int t = reverse ? steps - 1 - s : s;
                T* hprev = s == 0 ? h0 : output + (long)Prev(t, reverse) * n * h;
                T* sv = saved + (long)t * n * g4, gr = grad + (long)t * n * h;
                T* dp = dproj + (long)t * n * g3, dq = dhpAll + (long)t * n * g3;
                Threads.For(n, 8, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
                {
                    for (long r = r0; r < r1; r++)
                    {
                        if (!Runs(lengths, t, r))
                        {
                            // A held state passes its gradient (and this step's own) on; its gates get none.
                            new Span<T>(dp + r * g3, g3).Clear();
                            new Span<T>(dq + r * g3, g3).Clear();
                            T* gh = gr + r * h, dn = dhp + r * h;
                            for (int j = 0; j < h; j++) dn[j] += gh[j];
                            continue;
                        }
                        T* sr = sv + r * g4, g = gr + r * h, d1 = dp + r * g3, d2 = dq + r * g3, hp0 = hprev + r * h, dnext = dhp + r * h;
                        for (int j = 0; j < h; j++)
                        {
                            T rg = sr[j], z = sr[h + j], nn = sr[2 * h + j], hn = sr[3 * h + j];
                            T dh = g[j] + dnext[j];
                            T dnPre = dh * (T.One - z) * (T.One - nn * nn);
                            T dzPre = dh * (hp0[j] - nn) * z * (T.One - z);
                            T drPre = dnPre * hn * rg * (T.One - rg);
                            d1[j] = drPre; d1[h + j] = dzPre; d1[2 * h + j] = dnPre;
                            d2[j] = drPre; d2[h + j] = dzPre; d2[2 * h + j] = dnPre * rg;
                            dnext[j] = dh * z;   // the direct path; the GEMM below adds dhp·W_hh
                        }
                    }
                });
                BlockGemm.Multiply(n, h, g3, T.One, dq, g3, 1, whh, h, 1, T.One, dhp, h);
                T* dst = hprevAll + (long)t * n * h;
                new ReadOnlySpan<T>(hprev, n * h).CopyTo(new Span<T>(dst, n * h));
            }
            new ReadOnlySpan<T>(dhp, n * h).CopyTo(new Span<T>(dh0, n * h));
        }
        int rows = steps * n;
        // dW_hh = Σ_t dhpₜᵀ · h_prevₜ and db_hh = Σ dhp, over all steps at once.
        BlockGemm.Multiply(g3, h, rows, T.One, dhpAll, 1, g3, hprevAll, h, 1, T.Zero, dwhh, h);
        if (dbhh != null)
            for (int j = 0; j < g3; j++)
            {
                T a = T.Zero;
                for (long r = 0; r < rows; r++) a += dhpAll[r * g3 + j];
                dbhh[j] = a;
            }
    }

    /// <summary>The float gate math eight lanes at a time; returns how many columns it did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Gates256(float* x, float* q, float* o, float* sr, float* hp0, int h)
    {
        if (!Vector256.IsHardwareAccelerated) return 0;
        int j = 0;
        for (; j <= h - 8; j += 8)
        {
            var rg = FloatMath.Sigmoid(Vector256.Load(x + j) + Vector256.Load(q + j));
            var z = FloatMath.Sigmoid(Vector256.Load(x + h + j) + Vector256.Load(q + h + j));
            var hn = Vector256.Load(q + 2 * h + j);
            var nn = FloatMath.Tanh(Vector256.Load(x + 2 * h + j) + rg * hn);
            (nn + z * (Vector256.Load(hp0 + j) - nn)).Store(o + j);
            rg.Store(sr + j); z.Store(sr + h + j); nn.Store(sr + 2 * h + j); hn.Store(sr + 3 * h + j);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));
}
