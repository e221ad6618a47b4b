using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Normalization;

/// <summary>
/// Layer norm over rows of length D in one pass each way: forward keeps each row's mean and 1/σ; backward forms
/// dx = rstd·(dy·w - mean(dy·w) - x̂·mean(dy·w·x̂)) per row, and dw = Σ dy·x̂, db = Σ dy over rows (double accumulators).
/// </summary>
internal static unsafe class LayerNormKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(T* x, T* w, T* b, T* y, T* mean, T* rstd, long rows, int d, double eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Threads.For(rows, Math.Max(1, 16384 / d), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                T* xr = x + r * d, yr = y + r * d;
                double sum = 0;
                for (int j = 0; j < d; j++) sum += double.CreateTruncating(xr[j]);
                double mu = sum / d, sq = 0;
                for (int j = 0; j < d; j++) { double c = double.CreateTruncating(xr[j]) - mu; sq += c * c; }
                double rs = 1 / Math.Sqrt(sq / d + eps);
                mean[r] = T.CreateTruncating(mu);
                rstd[r] = T.CreateTruncating(rs);
                T m = T.CreateTruncating(mu), s = T.CreateTruncating(rs);
                for (int j = 0; j < d; j++)
                {
                    T v = (xr[j] - m) * s;
                    if (w != null) v *= w[j];
                    if (b != null) v += b[j];
                    yr[j] = v;
                }
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(T* x, T* w, T* mean, T* rstd, T* dy, T* dx, T* dw, T* db, long rows, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int chunks = (int)Math.Min(Math.Max(1, Threads.Count), rows);
        // Per-chunk partial dw/db, summed at the end: no contention between threads.
        var partW = dw != null ? new double[chunks * d] : null;
        var partB = db != null ? new double[chunks * d] : null;
        Threads.For(chunks, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (c0, c1) =>
        {
            for (long c = c0; c < c1; c++)
            {
                long rs = rows * c / chunks, re = rows * (c + 1) / chunks;
                for (long r = rs; r < re; r++)
                {
                    T* xr = x + r * d, gr = dy + r * d, dxr = dx + r * d;
                    double m = double.CreateTruncating(mean[r]), s = double.CreateTruncating(rstd[r]);
                    double sumG = 0, sumGX = 0;
                    for (int j = 0; j < d; j++)
                    {
                        double xh = (double.CreateTruncating(xr[j]) - m) * s;
                        double g = double.CreateTruncating(gr[j]);
                        if (partW != null) partW[c * d + j] += g * xh;
                        if (partB != null) partB[c * d + j] += g;
                        if (w != null) g *= double.CreateTruncating(w[j]);
                        sumG += g;
                        sumGX += g * xh;
                    }
                    double meanG = sumG / d, meanGX = sumGX / d;
                    for (int j = 0; j < d; j++)
                    {
                        double xh = (double.CreateTruncating(xr[j]) - m) * s;
                        double g = double.CreateTruncating(gr[j]);
                        if (w != null) g *= double.CreateTruncating(w[j]);
                        dxr[j] = T.CreateTruncating(s * (g - meanG - xh * meanGX));
                    }
                }
            }
        });
        for (int j = 0; j < d; j++)
        {
            if (partW != null) { double a = 0; for (int c = 0; c < chunks; c++) a += partW[c * d + j]; dw[j] = T.CreateTruncating(a); }
            if (partB != null) { double a = 0; for (int c = 0; c < chunks; c++) a += partB[c * d + j]; db[j] = T.CreateTruncating(a); }
        }
    }
}
