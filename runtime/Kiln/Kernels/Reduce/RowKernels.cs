using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels.Reduce;

/// <summary>
/// Reductions over one contiguous row, written once per family and specialised per element type.
/// Floating sums add vector lanes in blocks and carry the block totals in double, so long rows keep
/// their precision.
/// </summary>
internal static unsafe class RowKernels
{
    const int Block = 1024;

    /// <summary>Sum of a float row: 4 vector accumulators per block, block totals in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Sum(float* p, long n)
    {
        double total = 0;
        long i = 0;
        int w = Vector256<float>.Count;
        while (i < n)
        {
            long end = Math.Min(n, i + Block);
            var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
            for (; i <= end - 4 * w; i += 4 * w)
            {
                a0 += Vector256.Load(p + i);
                a1 += Vector256.Load(p + i + w);
                a2 += Vector256.Load(p + i + 2 * w);
                a3 += Vector256.Load(p + i + 3 * w);
            }
            for (; i <= end - w; i += w) a0 += Vector256.Load(p + i);
            float s = Vector256.Sum((a0 + a1) + (a2 + a3));
            for (; i < end; i++) s += p[i];
            total += s;
        }
        return total;
    }

    /// <summary>Sum of a row of doubles, longs or ints (ints accumulate exactly in long).</summary>
    public static T Sum<T>(T* p, long n) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) { float r = (float)Sum((float*)p, n); return Unsafe.As<float, T>(ref r); }
        T s = T.Zero;
        for (long i = 0; i < n; i++) s += p[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Prod<T>(T* p, long n) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
        {
            double d = 1;
            for (long i = 0; i < n; i++) d *= ((float*)p)[i];
            float r = (float)d;
            return Unsafe.As<float, T>(ref r);
        }
        T s = T.One;
        for (long i = 0; i < n; i++) s *= p[i];
        return s;
    }

    /// <summary>Max or min with the index of its first occurrence; NaN wins, as in PyTorch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T Extreme<T>(T* p, long n, bool max, out long index) where T : unmanaged, INumber<T>
    {
        T best = p[0];
        index = 0;
        if (T.IsNaN(best)) return best;
        for (long i = 1; i < n; i++)
        {
            T v = p[i];
            if (T.IsNaN(v)) { index = i; return v; }
            if (max ? v > best : v < best) { best = v; index = i; }
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Mean<T>(T* p, long n) where T : unmanaged, INumber<T> => double.CreateTruncating(Sum(p, n)) / n;

    /// <summary>Two-pass variance with Bessel-style correction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Var<T>(T* p, long n, double correction) where T : unmanaged, INumber<T>
    {
        double mean = 0;
        for (long i = 0; i < n; i++) mean += double.CreateTruncating(p[i]);
        mean /= n;
        double ss = 0;
        for (long i = 0; i < n; i++) { double d = double.CreateTruncating(p[i]) - mean; ss += d * d; }
        return ss / Math.Max(0, n - correction);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Norm<T>(T* p, long n, double ord) where T : unmanaged, INumber<T>
    {
        if (double.IsPositiveInfinity(ord))
        {
            double m = 0;
            for (long i = 0; i < n; i++) m = Math.Max(m, Math.Abs(double.CreateTruncating(p[i])));
            return m;
        }
        double s = 0;
        for (long i = 0; i < n; i++)
        {
            double a = Math.Abs(double.CreateTruncating(p[i]));
            s += ord == 2 ? a * a : ord == 1 ? a : Math.Pow(a, ord);
        }
        return ord == 2 ? Math.Sqrt(s) : ord == 1 ? s : Math.Pow(s, 1 / ord);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double LogSumExp<T>(T* p, long n) where T : unmanaged, INumber<T>
    {
        double m = double.NegativeInfinity;
        for (long i = 0; i < n; i++) m = Math.Max(m, double.CreateTruncating(p[i]));
        if (double.IsInfinity(m)) return m;
        double s = 0;
        for (long i = 0; i < n; i++) s += Math.Exp(double.CreateTruncating(p[i]) - m);
        return m + Math.Log(s);
    }

    /// <summary>Softmax or log-softmax of one float row in place of <paramref name="y"/>; vectorised max, exp and scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(float* x, float* y, int n, bool log)
    {
        int w = Vector256<float>.Count, i = 0;
        float m = Max(x, n);
        if (float.IsNegativeInfinity(m)) m = 0;
        var vmax = Vector256.Create(m);
        var acc = Vector256<float>.Zero;
        double sum = 0;
        i = 0;
        if (log)
        {
            for (; i <= n - w; i += w) acc += FloatMath.Exp(Vector256.Load(x + i) - vmax);
            for (; i < n; i++) sum += MathF.Exp(x[i] - m);
            sum += Vector256.Sum(acc);
            var shift = Vector256.Create(m + (float)Math.Log(sum));
            for (i = 0; i <= n - w; i += w) (Vector256.Load(x + i) - shift).Store(y + i);
            for (; i < n; i++) y[i] = x[i] - shift[0];
            return;
        }
        for (; i <= n - w; i += w)
        {
            var e = FloatMath.Exp(Vector256.Load(x + i) - vmax);
            e.Store(y + i);
            acc += e;
        }
        for (; i < n; i++) { float e = MathF.Exp(x[i] - m); y[i] = e; sum += e; }
        sum += Vector256.Sum(acc);
        Scale(y, n, (float)(1.0 / sum));
    }

    /// <summary>Largest element of a float row; NaN handling is left to the caller's exp (a NaN row ends NaN).</summary>
    static float Max(float* x, int n)
    {
        int i = 0;
        float m = float.NegativeInfinity;
        // These light passes use 512-bit vectors where the CPU has them; the exp pass stays 256-bit (one exp implementation).
        if (Vector512.IsHardwareAccelerated)
        {
            var vm = Vector512.Create(float.NegativeInfinity);
            for (; i <= n - 16; i += 16) vm = Vector512.MaxNative(vm, Vector512.Load(x + i));
            for (int k = 0; k < 16; k++) m = MathF.Max(m, vm[k]);
        }
        else
        {
            var vm = Vector256.Create(float.NegativeInfinity);
            for (; i <= n - 8; i += 8) vm = Vector256.MaxNative(vm, Vector256.Load(x + i));
            for (int k = 0; k < 8; k++) m = MathF.Max(m, vm[k]);
        }
        for (; i < n; i++) m = MathF.Max(m, x[i]);
        return m;
    }

    static void Scale(float* y, int n, float s)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(s);
            for (; i <= n - 16; i += 16) (Vector512.Load(y + i) * v).Store(y + i);
        }
        else
        {
            var v = Vector256.Create(s);
            for (; i <= n - 8; i += 8) (Vector256.Load(y + i) * v).Store(y + i);
        }
        for (; i < n; i++) y[i] *= s;
    }

    /// <summary>Softmax or log-softmax of a double row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(double* x, double* y, int n, bool log)
    {
        double m = double.NegativeInfinity;
        for (int i = 0; i < n; i++) m = Math.Max(m, x[i]);
        if (double.IsNegativeInfinity(m)) m = 0;
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.Exp(x[i] - m);
        if (log) { double shift = m + Math.Log(s); for (int i = 0; i < n; i++) y[i] = x[i] - shift; return; }
        for (int i = 0; i < n; i++) y[i] = Math.Exp(x[i] - m) / s;
    }
}
