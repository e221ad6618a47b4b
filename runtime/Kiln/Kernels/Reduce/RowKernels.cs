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

    /// <summary>Sum of a float row: 4 vector accumulators per block (512-bit lanes where available), block totals in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Sum(float* p, long n) => Vector512.IsHardwareAccelerated ? Sum<Lanes512>(p, n) : Sum<Lanes256>(p, n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static double Sum<TV>(float* p, long n) where TV : struct, IFloatLanes<TV>
    {
        double total = 0;
        long i = 0;
        int w = TV.Count;
        while (i < n)
        {
            long end = Math.Min(n, i + Block);
            var a0 = TV.Splat(0); var a1 = a0; var a2 = a0; var a3 = a0;
            for (; i <= end - 4 * w; i += 4 * w)
            {
                a0 = TV.Add(a0, TV.Load(p + i));
                a1 = TV.Add(a1, TV.Load(p + i + w));
                a2 = TV.Add(a2, TV.Load(p + i + 2 * w));
                a3 = TV.Add(a3, TV.Load(p + i + 3 * w));
            }
            for (; i <= end - w; i += w) a0 = TV.Add(a0, TV.Load(p + i));
            float s = TV.ReduceSum(TV.Add(TV.Add(a0, a1), TV.Add(a2, a3)));
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
        if (double.IsNegativeInfinity(ord))
        {
            double m = double.PositiveInfinity;
            for (long i = 0; i < n; i++) m = Math.Min(m, Math.Abs(double.CreateTruncating(p[i])));
            return m;
        }
        if (ord == 0) // PyTorch: the count of non-zero elements
        {
            long count = 0;
            for (long i = 0; i < n; i++) if (p[i] != T.Zero) count++;
            return count;
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

    /// <summary>Softmax or log-softmax of one float row into <paramref name="y"/>: vector max, exp (+ sum), then scale or shift — 512-bit lanes where the CPU has them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(float* x, float* y, int n, bool log, float scale = 1)
    {
        if (Vector512.IsHardwareAccelerated) Softmax<Lanes512>(x, y, n, log, scale);
        else Softmax<Lanes256>(x, y, n, log, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Softmax<TV>(float* x, float* y, int n, bool log, float scale) where TV : struct, IFloatLanes<TV>
    {
        // softmax(x·scale): the scale (a compiled model's fused "* c" before the softmax) is applied as each element is
        // loaded — x·1 is x, so the plain softmax is unchanged.
        int w = TV.Count, i = 0;
        var vk = TV.Splat(scale);
        var vm = TV.Splat(float.NegativeInfinity);
        for (; i <= n - w; i += w) vm = TV.MaxNative(vm, TV.Mul(TV.Load(x + i), vk)); // a NaN row ends NaN through exp anyway
        float m = TV.ReduceMax(vm);
        for (; i < n; i++) m = MathF.Max(m, x[i] * scale);
        if (float.IsNegativeInfinity(m)) m = 0;
        var vmax = TV.Splat(m);
        var acc = TV.Splat(0);
        double sum = 0;
        for (i = 0; i <= n - w; i += w)
        {
            var e = FloatMath.Exp(TV.Sub(TV.Mul(TV.Load(x + i), vk), vmax));
            if (!log) TV.Store(e, y + i);
            acc = TV.Add(acc, e);
        }
        for (; i < n; i++) { float e = MathF.Exp(x[i] * scale - m); if (!log) y[i] = e; sum += e; }
        sum += TV.ReduceSum(acc);
        if (log)
        {
            float shift = m + (float)Math.Log(sum);
            var vs = TV.Splat(shift);
            for (i = 0; i <= n - w; i += w) TV.Store(TV.Sub(TV.Mul(TV.Load(x + i), vk), vs), y + i);
            for (; i < n; i++) y[i] = x[i] * scale - shift;
            return;
        }
        float s = (float)(1.0 / sum);
        var vscale = TV.Splat(s);
        for (i = 0; i <= n - w; i += w) TV.Store(TV.Mul(TV.Load(y + i), vscale), y + i);
        for (; i < n; i++) y[i] *= s;
    }

    /// <summary>
    /// The gradient of one float row's softmax from its output y and the output's gradient g, y·(g - Σ g·y), or of its
    /// log-softmax, g - e^y·Σ g: a pass for the sum and one for the result, where the rule took four over the tensor.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxBackward(float* g, float* y, float* dx, int n, bool log)
    {
        if (Vector512.IsHardwareAccelerated) SoftmaxBackward<Lanes512>(g, y, dx, n, log);
        else SoftmaxBackward<Lanes256>(g, y, dx, n, log);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void SoftmaxBackward<TV>(float* g, float* y, float* dx, int n, bool log) where TV : struct, IFloatLanes<TV>
    {
        float s = (float)(log ? Sum<TV>(g, n) : Dot<TV>(g, y, n));
        int w = TV.Count, i = 0;
        var vs = TV.Splat(s);
        if (log)
        {
            for (; i <= n - w; i += w) TV.Store(TV.Sub(TV.Load(g + i), TV.Mul(FloatMath.Exp(TV.Load(y + i)), vs)), dx + i);
            for (; i < n; i++) dx[i] = g[i] - MathF.Exp(y[i]) * s;
            return;
        }
        for (; i <= n - w; i += w) TV.Store(TV.Mul(TV.Load(y + i), TV.Sub(TV.Load(g + i), vs)), dx + i);
        for (; i < n; i++) dx[i] = y[i] * (g[i] - s);
    }

    /// <summary>Σ a·b over a float row: vector lanes in blocks, block totals in double (as <see cref="Sum(float*, long)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static double Dot<TV>(float* a, float* b, long n) where TV : struct, IFloatLanes<TV>
    {
        double total = 0;
        long i = 0;
        int w = TV.Count;
        while (i < n)
        {
            long end = Math.Min(n, i + Block);
            var acc = TV.Splat(0);
            for (; i + w <= end; i += w) acc = TV.Fma(TV.Load(a + i), TV.Load(b + i), acc);
            double block = TV.ReduceSum(acc);
            for (; i < end; i++) block += a[i] * b[i];
            total += block;
        }
        return total;
    }

    /// <summary>Softmax or log-softmax of a double row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(double* x, double* y, int n, bool log, double scale = 1)
    {
        double m = double.NegativeInfinity;
        for (int i = 0; i < n; i++) m = Math.Max(m, x[i] * scale);
        if (double.IsNegativeInfinity(m)) m = 0;
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.Exp(x[i] * scale - m);
        if (log) { double shift = m + Math.Log(s); for (int i = 0; i < n; i++) y[i] = x[i] * scale - shift; return; }
        for (int i = 0; i < n; i++) y[i] = Math.Exp(x[i] * scale - m) / s;
    }
}
