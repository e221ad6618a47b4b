using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Normalization;

/// <summary>
/// Batch norm over a contiguous [N, C, S] tensor (S: the product of the spatial dims, 1 for [N, C]); float32 or float64.
/// Statistics in double; y = x·α + β with α = rstd·w, β = b - mean·α (PyTorch's CPU form); backward gives dw = Σ dy·x̂,
/// db = Σ dy and dx = w·rstd·(dy - (db + x̂·dw)/M) with the batch's statistics (M = N·S values per channel), or w·rstd·dy
/// with fixed ones. Work is split by channel blocks and each block walks samples outer, channels inner, so memory is read
/// in order whatever S is (S = 1 for BatchNorm1d is a column reduction).
/// </summary>
internal static unsafe class BatchNormKernel
{
    /// <summary>Each channel's mean and biased variance of <paramref name="x"/>, and 1/sqrt(variance + eps) where <paramref name="rstd"/> is not null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Statistics<T>(T* x, long n, int c, long s, T* mean, T* variance, T* rstd, double eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double count = n * s;
        Threads.For(c, Grain(n, c, s), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (c0, c1) =>
        {
            int width = (int)(c1 - c0);
            var acc = new double[width];
            for (long i = 0; i < n; i++)
                for (int k = 0; k < width; k++) acc[k] += LayerNormKernel.Sum(x + (i * c + c0 + k) * s, (int)s);
            var mu = new double[width];
            for (int k = 0; k < width; k++) { mu[k] = acc[k] / count; acc[k] = 0; }
            // Second pass over the centred values (not E[x²] - E[x]², which cancels badly).
            for (long i = 0; i < n; i++)
                for (int k = 0; k < width; k++) acc[k] += LayerNormKernel.SumSquaredDeviation(x + (i * c + c0 + k) * s, (int)s, mu[k]);
            for (int k = 0; k < width; k++)
            {
                double v = acc[k] / count;
                mean[c0 + k] = T.CreateTruncating(mu[k]);
                variance[c0 + k] = T.CreateTruncating(v);
                if (rstd != null) rstd[c0 + k] = T.CreateTruncating(1 / Math.Sqrt(v + eps));
            }
        });
    }

    /// <summary>y = (x - mean)·rstd·w + b per channel, as x·α + β (w, b may be null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normalize<T>(T* x, T* y, long n, int c, long s, T* mean, T* rstd, T* w, T* b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var alpha = new T[c];
        var beta = new T[c];
        for (int ch = 0; ch < c; ch++)
        {
            alpha[ch] = rstd[ch] * (w == null ? T.One : w[ch]);
            beta[ch] = (b == null ? T.Zero : b[ch]) - mean[ch] * alpha[ch];
        }
        Threads.For(n * c, Math.Max(1, 16384 / Math.Max(1, s)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                int ch = (int)(r % c);
                Affine(x + r * s, y + r * s, s, alpha[ch], beta[ch]);
            }
        });
    }

    /// <summary>y = x·a + b over one run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Affine<T>(T* x, T* y, long s, T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            var vb = Vector256.Create(b);
            for (; j + Vector256<T>.Count <= s; j += Vector256<T>.Count) (Vector256.Load(x + j) * va + vb).Store(y + j);
        }
        for (; j < s; j++) y[j] = x[j] * a + b;
    }

    /// <summary>
    /// The gradients of <see cref="Normalize"/>: dx (when not null), dw and db (when not null). <paramref name="batchStatistics"/>:
    /// mean and rstd were the batch's own, so dx carries their derivative.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(T* x, T* dy, T* dx, long n, int c, long s, T* mean, T* rstd, T* w, T* dw, T* db, bool batchStatistics) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double count = n * s;
        Threads.For(c, Grain(n, c, s), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (c0, c1) =>
        {
            int width = (int)(c1 - c0);
            var sumG = new double[width];
            var sumGX = new double[width];
            for (long i = 0; i < n; i++)
                for (int k = 0; k < width; k++)
                {
                    long at = (i * c + c0 + k) * s;
                    var (g, gx) = SumAndCenteredDot(dy + at, x + at, s, mean[c0 + k]);
                    sumG[k] += g;
                    sumGX[k] += gx;
                }
            // Per channel: dx = scale·dy + (x - mean)·slope + offset, with scale = w·rstd, slope = -scale·rstd·mean(dy·x̂),
            // offset = -scale·mean(dy).
            var scale = new T[width];
            var slope = new T[width];
            var offset = new T[width];
            for (int k = 0; k < width; k++)
            {
                long ch = c0 + k;
                double r = double.CreateTruncating(rstd[ch]);
                double dotHat = sumGX[k] * r;
                if (dw != null) dw[ch] = T.CreateTruncating(dotHat);
                if (db != null) db[ch] = T.CreateTruncating(sumG[k]);
                double sc = (w == null ? 1 : double.CreateTruncating(w[ch])) * r;
                double sl = batchStatistics ? -sc * r * dotHat / count : 0;
                scale[k] = T.CreateTruncating(sc);
                slope[k] = T.CreateTruncating(sl);
                offset[k] = T.CreateTruncating(batchStatistics ? -sc * sumG[k] / count : 0);
            }
            if (dx == null) return;
            for (long i = 0; i < n; i++)
                for (int k = 0; k < width; k++)
                {
                    long at = (i * c + c0 + k) * s;
                    InputGradient(dy + at, x + at, dx + at, s, mean[c0 + k], scale[k], slope[k], offset[k]);
                }
        });
    }

    /// <summary>Channels per task: enough values that a task is worth starting.</summary>
    static long Grain(long n, int c, long s) => Math.Max(1, 32768 / Math.Max(1, n * s));

    /// <summary>(Σ g, Σ g·(x - m)) over one run, in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (double G, double GX) SumAndCenteredDot<T>(T* g, T* x, long s, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long j = 0;
        double sumG = 0, sumGX = 0;
        if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
        {
            // Eight float lanes: the centred product in float (as the forward's x̂), accumulated widened to double.
            var accG = Vector256<double>.Zero;
            var accGX = Vector256<double>.Zero;
            var vm = Vector256.Create(Unsafe.As<T, float>(ref m));
            for (; j + 8 <= s; j += 8)
            {
                var gv = Vector256.Load((float*)g + j);
                var (g0, g1) = Vector256.Widen(gv);
                var (p0, p1) = Vector256.Widen(gv * (Vector256.Load((float*)x + j) - vm));
                accG += g0 + g1;
                accGX += p0 + p1;
            }
            sumG = Vector256.Sum(accG);
            sumGX = Vector256.Sum(accGX);
        }
        double md = double.CreateTruncating(m);
        for (; j < s; j++)
        {
            double gj = double.CreateTruncating(g[j]);
            sumG += gj;
            sumGX += gj * (double.CreateTruncating(x[j]) - md);
        }
        return (sumG, sumGX);
    }

    /// <summary>dx = dy·scale + (x - m)·slope + offset over one run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void InputGradient<T>(T* g, T* x, T* dx, long s, T m, T scale, T slope, T offset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vm = Vector256.Create(m);
            var vs = Vector256.Create(scale);
            var vl = Vector256.Create(slope);
            var vo = Vector256.Create(offset);
            for (; j + Vector256<T>.Count <= s; j += Vector256<T>.Count)
                (Vector256.Load(g + j) * vs + (Vector256.Load(x + j) - vm) * vl + vo).Store(dx + j);
        }
        for (; j < s; j++) dx[j] = g[j] * scale + (x[j] - m) * slope + offset;
    }
}
