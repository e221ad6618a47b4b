using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Normalization;

/// <summary>
/// Layer norm over rows of length D in one pass each way: forward keeps each row's mean and 1/σ; backward forms
/// dx = rstd·(dy·w - mean(dy·w) - x̂·mean(dy·w·x̂)) per row, and dw = Σ dy·x̂, db = Σ dy over rows (double accumulators).
/// Without a mean buffer it is RMS norm: rows are not centred, and the mean(dy·w) term drops out of dx.
/// </summary>
internal static unsafe class LayerNormKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(T* x, T* w, T* b, T* y, T* mean, T* rstd, long rows, int d, double eps, Action<long, long>? produce = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Threads.For(rows, Math.Max(1, 16384 / d), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
        {
            // A compiled model's elementwise group before the norm writes this block of x first (elements [r0·d, r1·d)),
            // so the rows are normalised while they are still in cache.
            produce?.Invoke(r0 * d, r1 * d);
            for (long r = r0; r < r1; r++)
            {
                T* xr = x + r * d, yr = y + r * d;
                double mu = mean == null ? 0 : Sum(xr, d) / d, sq = SumSquaredDeviation(xr, d, mu);
                double rs = 1 / Math.Sqrt(sq / d + eps);
                if (mean != null) mean[r] = T.CreateTruncating(mu);
                rstd[r] = T.CreateTruncating(rs);
                T m = T.CreateTruncating(mu), s = T.CreateTruncating(rs);
                int j0 = typeof(T) == typeof(float) ? Normalize256((float*)xr, (float*)w, (float*)b, (float*)yr, d, (float)mu, (float)rs) : 0;
                for (int j = j0; j < d; j++)
                {
                    T v = (xr[j] - m) * s;
                    if (w != null) v *= w[j];
                    if (b != null) v += b[j];
                    yr[j] = v;
                }
            }
        });
    }

    /// <summary>Σ x in double (eight float lanes widened at a time).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double Sum<T>(T* x, int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        double sum = 0;
        if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
        {
            var acc = Vector256<double>.Zero;
            for (; j <= d - 8; j += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load((float*)x + j));
                acc += lo + hi;
            }
            sum = Vector256.Sum(acc);
        }
        for (; j < d; j++) sum += double.CreateTruncating(x[j]);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double SumSquaredDeviation<T>(T* x, int d, double mu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        double sq = 0;
        if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
        {
            var acc = Vector256<double>.Zero;
            var m = Vector256.Create(mu);
            for (; j <= d - 8; j += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load((float*)x + j));
                lo -= m; hi -= m;
                acc += lo * lo + hi * hi;
            }
            sq = Vector256.Sum(acc);
        }
        for (; j < d; j++) { double c = double.CreateTruncating(x[j]) - mu; sq += c * c; }
        return sq;
    }

    /// <summary>One row of the backward in float lanes (double row sums and dw/db partials).</summary>
    static void BackwardRow256(float* x, float* w, float* g, float* dx, double* pw, double* pb, int d, float mu, float rs, bool center)
    {
        var m = Vector256.Create(mu);
        var s = Vector256.Create(rs);
        var accG = Vector256<double>.Zero;
        var accGX = Vector256<double>.Zero;
        for (int j = 0; j < d; j += 8)
        {
            var xh = (Vector256.Load(x + j) - m) * s;
            var gv = Vector256.Load(g + j);
            if (pw != null)
            {
                var (lo, hi) = Vector256.Widen(gv * xh);
                (Vector256.Load(pw + j) + lo).Store(pw + j);
                (Vector256.Load(pw + j + 4) + hi).Store(pw + j + 4);
            }
            if (pb != null)
            {
                var (lo, hi) = Vector256.Widen(gv);
                (Vector256.Load(pb + j) + lo).Store(pb + j);
                (Vector256.Load(pb + j + 4) + hi).Store(pb + j + 4);
            }
            if (w != null) gv *= Vector256.Load(w + j);
            var (g0, g1) = Vector256.Widen(gv);
            var (p0, p1) = Vector256.Widen(gv * xh);
            accG += g0 + g1;
            accGX += p0 + p1;
        }
        var meanG = Vector256.Create(center ? (float)(Vector256.Sum(accG) / d) : 0f);
        var meanGX = Vector256.Create((float)(Vector256.Sum(accGX) / d));
        for (int j = 0; j < d; j += 8)
        {
            var xh = (Vector256.Load(x + j) - m) * s;
            var gv = Vector256.Load(g + j);
            if (w != null) gv *= Vector256.Load(w + j);
            (s * (gv - meanG - xh * meanGX)).Store(dx + j);
        }
    }

    static int Normalize256(float* x, float* w, float* b, float* y, int d, float mu, float rs)
    {
        if (!Vector256.IsHardwareAccelerated) return 0;
        int j = 0;
        var m = Vector256.Create(mu);
        var s = Vector256.Create(rs);
        for (; j <= d - 8; j += 8)
        {
            var v = (Vector256.Load(x + j) - m) * s;
            if (w != null) v *= Vector256.Load(w + j);
            if (b != null) v += Vector256.Load(b + j);
            v.Store(y + j);
        }
        return j;
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
                fixed (double* pw0 = partW, pb0 = partB)
                    for (long r = rs; r < re; r++)
                    {
                        T* xr = x + r * d, gr = dy + r * d, dxr = dx + r * d;
                        if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated && d % 8 == 0)
                        {
                            BackwardRow256((float*)xr, (float*)w, (float*)gr, (float*)dxr, pw0 == null ? null : pw0 + c * d, pb0 == null ? null : pb0 + c * d,
                                d, mean == null ? 0f : (float)double.CreateTruncating(mean[r]), (float)double.CreateTruncating(rstd[r]), mean != null);
                            continue;
                        }
                        double m = mean == null ? 0 : double.CreateTruncating(mean[r]), s = double.CreateTruncating(rstd[r]);
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
                        double meanG = mean == null ? 0 : sumG / d, meanGX = sumGX / d;
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
