using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

internal struct NegOp : IUnaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> => -x;
    public Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, INumber<T> => -x;
    public bool Vectorized512<T>() where T : unmanaged, INumber<T> => true;
    public Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, INumber<T> => -x;
}

internal struct AbsOp : IUnaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    // Integers wrap like PyTorch (abs(long.MinValue) is long.MinValue) where T.Abs would throw OverflowException.
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(float) || typeof(T) == typeof(double) ? T.Abs(x) : x < T.Zero ? T.Zero - x : x;
    public Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, INumber<T> => Vector256.Abs(x);
    public bool Vectorized512<T>() where T : unmanaged, INumber<T> => true;
    public Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, INumber<T> => Vector512.Abs(x);
}

internal struct ReluOp : IUnaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> => x > T.Zero ? x : (T.IsNaN(x) ? x : T.Zero);
    public Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, INumber<T> => Vector256.Max(x, Vector256<T>.Zero);
    public bool Vectorized512<T>() where T : unmanaged, INumber<T> => true;
    public Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, INumber<T> => Vector512.Max(x, Vector512<T>.Zero);
}

/// <summary>Clamp to [Min, Max]; either bound may be absent.</summary>
internal struct ClampOp : IUnaryOp
{
    public double Min, Max;
    public bool HasMin, HasMax;

    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<T>(T x) where T : unmanaged, INumber<T>
    {
        if (T.IsNaN(x)) return x;
        if (HasMin) { var lo = T.CreateSaturating(Min); if (x < lo) x = lo; }
        if (HasMax) { var hi = T.CreateSaturating(Max); if (x > hi) x = hi; }
        return x;
    }

    public Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, INumber<T>
    {
        if (HasMin) x = Vector256.Max(x, Vector256.Create(T.CreateSaturating(Min)));
        if (HasMax) x = Vector256.Min(x, Vector256.Create(T.CreateSaturating(Max)));
        return x;
    }

    public bool Vectorized512<T>() where T : unmanaged, INumber<T> => true;

    public Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, INumber<T>
    {
        if (HasMin) x = Vector512.Max(x, Vector512.Create(T.CreateSaturating(Min)));
        if (HasMax) x = Vector512.Min(x, Vector512.Create(T.CreateSaturating(Max)));
        return x;
    }
}

internal struct AddOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a + b;
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a + b;
}

internal struct SubOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a - b;
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a - b;
}

internal struct MulOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a * b;
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a * b;
}

/// <summary>True division; integer inputs are promoted to float before reaching it.</summary>
internal struct DivOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => typeof(T) == typeof(float) || typeof(T) == typeof(double);
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a / b;
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a / b;
}

/// <summary>Elementwise maximum; NaN propagates as in PyTorch.</summary>
internal struct MaximumOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => T.IsNaN(a) || T.IsNaN(b) ? a + b : (a > b ? a : b);
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => Vector256.Max(a, b);
}

/// <summary>Elementwise minimum; NaN propagates as in PyTorch.</summary>
internal struct MinimumOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => T.IsNaN(a) || T.IsNaN(b) ? a + b : (a < b ? a : b);
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => Vector256.Min(a, b);
}

/// <summary>a^b; integer powers by squaring (negative exponents are an error before reaching here).</summary>
internal struct PowOp : IBinaryOp
{
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => false;

    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) { float r = System.MathF.Pow(Unsafe.As<T, float>(ref a), Unsafe.As<T, float>(ref b)); return Unsafe.As<float, T>(ref r); }
        if (typeof(T) == typeof(double)) { double r = System.Math.Pow(Unsafe.As<T, double>(ref a), Unsafe.As<T, double>(ref b)); return Unsafe.As<double, T>(ref r); }
        T result = T.One, x = a;
        long e = long.CreateTruncating(b);
        while (e > 0)
        {
            if ((e & 1) != 0) result *= x;
            x *= x;
            e >>= 1;
        }
        return result;
    }

    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => a;
}

internal struct EqOp : ICompareOp { public bool Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a == b; }
internal struct NeOp : ICompareOp { public bool Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a != b; }
internal struct LtOp : ICompareOp { public bool Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a < b; }
internal struct LeOp : ICompareOp { public bool Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a <= b; }
internal struct GtOp : ICompareOp { public bool Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a > b; }
internal struct GeOp : ICompareOp { public bool Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => a >= b; }

/// <summary>a where b &gt; threshold, else 0: relu's backward (PyTorch's threshold_backward) without a mask tensor.</summary>
internal struct KeepWhereGreaterOp : IBinaryOp
{
    public double Threshold;
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T> => b > T.CreateSaturating(Threshold) ? a : T.Zero;
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(b, Vector256.Create(T.CreateSaturating(Threshold))), a, Vector256<T>.Zero);
}

/// <summary>1 where x &gt; threshold, else 0, in x's own type: relu's and softplus's backward mask in one pass.</summary>
internal struct GreaterMaskOp : IUnaryOp
{
    public double Threshold;
    public bool Vectorized<T>() where T : unmanaged, INumber<T> => true;
    public T Invoke<T>(T x) where T : unmanaged, INumber<T> => x > T.CreateSaturating(Threshold) ? T.One : T.Zero;
    public Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, INumber<T> =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(T.CreateSaturating(Threshold))), Vector256<T>.One, Vector256<T>.Zero);
    public bool Vectorized512<T>() where T : unmanaged, INumber<T> => true;
    public Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, INumber<T> =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(T.CreateSaturating(Threshold))), Vector512<T>.One, Vector512<T>.Zero);
}
