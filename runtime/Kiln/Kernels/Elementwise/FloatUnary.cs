using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

/// <summary>A floating function: a double scalar body (float results are rounded from it) and an optional float-lane vector body.</summary>
internal interface IFloatFunction
{
    bool HasVector { get; }
    double Scalar(double x);
    Vector256<float> Vector(Vector256<float> x);
}

/// <summary>Adapts an <see cref="IFloatFunction"/> to <see cref="IUnaryOp"/> for float and double.</summary>
internal struct FloatUnary<TF> : IUnaryOp where TF : struct, IFloatFunction
{
    public TF F;
    public FloatUnary(TF f) => F = f;

    public bool Vectorized<T>() where T : unmanaged, INumber<T> => typeof(T) == typeof(float) && F.HasVector;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<T>(T x) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) { float r = (float)F.Scalar(Unsafe.As<T, float>(ref x)); return Unsafe.As<float, T>(ref r); }
        if (typeof(T) == typeof(double)) { double r = F.Scalar(Unsafe.As<T, double>(ref x)); return Unsafe.As<double, T>(ref r); }
        throw new InvalidOperationException("floating function on an integer compute type");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, INumber<T> => F.Vector(x.As<T, float>()).As<float, T>();
}

internal struct ExpF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => Math.Exp(x);
    public Vector256<float> Vector(Vector256<float> x) => FloatMath.Exp(x);
}

internal struct LogF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => Math.Log(x);
    public Vector256<float> Vector(Vector256<float> x) => Vector256.Log(x);
}

internal struct Log1pF : IFloatFunction
{
    public bool HasVector => false;
    public double Scalar(double x) => FloatMath.Log1p(x);
    public Vector256<float> Vector(Vector256<float> x) => x;
}

internal struct SqrtF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => Math.Sqrt(x);
    public Vector256<float> Vector(Vector256<float> x) => Vector256.Sqrt(x);
}

internal struct RsqrtF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => 1.0 / Math.Sqrt(x);
    public Vector256<float> Vector(Vector256<float> x) => Vector256.Create(1f) / Vector256.Sqrt(x);
}

internal struct SinF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => Math.Sin(x);
    public Vector256<float> Vector(Vector256<float> x) => Vector256.Sin(x);
}

internal struct CosF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => Math.Cos(x);
    public Vector256<float> Vector(Vector256<float> x) => Vector256.Cos(x);
}

internal struct TanhF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => Math.Tanh(x);
    public Vector256<float> Vector(Vector256<float> x) => FloatMath.Tanh(x);
}

internal struct SigmoidF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => FloatMath.Sigmoid(x);
    public Vector256<float> Vector(Vector256<float> x) => FloatMath.Sigmoid(x);
}

internal struct SiluF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => x * FloatMath.Sigmoid(x);
    public Vector256<float> Vector(Vector256<float> x) => x * FloatMath.Sigmoid(x);
}

/// <summary>Exact GELU, x·Φ(x).</summary>
internal struct GeluF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => FloatMath.Gelu(x);
    public Vector256<float> Vector(Vector256<float> x) => Vector256.Create(0.5f) * x * FloatMath.OnePlusErf(x * Vector256.Create(0.70710678f));
}

/// <summary>GELU's tanh approximation (<c>approximate="tanh"</c>).</summary>
internal struct GeluTanhF : IFloatFunction
{
    const double K = 0.79788456080286535588; // sqrt(2/pi)
    public bool HasVector => true;
    public double Scalar(double x) => 0.5 * x * (1.0 + Math.Tanh(K * (x + 0.044715 * x * x * x)));
    public Vector256<float> Vector(Vector256<float> x)
    {
        var inner = Vector256.Create((float)K) * (x + Vector256.Create(0.044715f) * x * x * x);
        return Vector256.Create(0.5f) * x * (Vector256.Create(1f) + FloatMath.Tanh(inner));
    }
}

/// <summary>softplus(x) = log(1 + e^{βx})/β, linear above the threshold, as PyTorch.</summary>
internal struct SoftplusF : IFloatFunction
{
    public double Beta, Threshold;
    public bool HasVector => false;
    public double Scalar(double x) => x * Beta > Threshold ? x : FloatMath.Log1p(Math.Exp(x * Beta)) / Beta;
    public Vector256<float> Vector(Vector256<float> x) => x;
}

/// <summary>x raised to a fixed exponent.</summary>
internal struct PowScalarF : IFloatFunction
{
    public double Exponent;
    public bool HasVector => Exponent == 2.0 || Exponent == 0.5 || Exponent == 1.0;
    public double Scalar(double x) => Exponent == 2.0 ? x * x : Exponent == 0.5 ? Math.Sqrt(x) : Math.Pow(x, Exponent);
    public Vector256<float> Vector(Vector256<float> x) => Exponent == 2.0 ? x * x : Exponent == 0.5 ? Vector256.Sqrt(x) : x;
}

/// <summary>Standard normal density φ(x).</summary>
internal struct NormalPdfF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => 0.39894228040143267794 * Math.Exp(-0.5 * x * x);
    public Vector256<float> Vector(Vector256<float> x) => Vector256.Create(0.39894228f) * FloatMath.Exp(Vector256.Create(-0.5f) * x * x);
}

/// <summary>Standard normal CDF Φ(x) = (1 + erf(x/√2))/2.</summary>
internal struct NormalCdfF : IFloatFunction
{
    public bool HasVector => true;
    public double Scalar(double x) => 0.5 * FloatMath.OnePlusErf(x * 0.70710678118654752440);
    public Vector256<float> Vector(Vector256<float> x) => Vector256.Create(0.5f) * FloatMath.OnePlusErf(x * Vector256.Create(0.70710678f));
}
