using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

/// <summary>A floating function: a double scalar body (float results are rounded from it) and optional float-lane vector bodies.</summary>
internal interface IFloatFunction
{
    bool HasVector { get; }
    double Scalar(double x);
    Vector256<float> Vector(Vector256<float> x);
    /// <summary>Whether <see cref="Vector512"/> is a body (not every function has a 16-lane form).</summary>
    bool HasVector512 { get; }
    Vector512<float> Vector512(Vector512<float> x);
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

    public bool Vectorized512<T>() where T : unmanaged, INumber<T> => typeof(T) == typeof(float) && F.HasVector512;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, INumber<T> => F.Vector512(x.As<T, float>()).As<float, T>();
}

/// <summary>softplus(x) = log(1 + e^{βx})/β, linear above the threshold, as PyTorch.</summary>
internal struct SoftplusF : IFloatFunction
{
    public double Beta, Threshold;
    public bool HasVector => false;
    public double Scalar(double x) => x * Beta > Threshold ? x : FloatMath.Log1p(Math.Exp(x * Beta)) / Beta;
    public Vector256<float> Vector(Vector256<float> x) => x;
    public bool HasVector512 => false;
    public Vector512<float> Vector512(Vector512<float> x) => x;
}

/// <summary>x raised to a fixed exponent.</summary>
internal struct PowScalarF : IFloatFunction
{
    public double Exponent;
    public bool HasVector => Exponent == 2.0 || Exponent == 0.5 || Exponent == 1.0;
    public double Scalar(double x) => Exponent == 2.0 ? x * x : Exponent == 0.5 ? Math.Sqrt(x) : Math.Pow(x, Exponent);
    public Vector256<float> Vector(Vector256<float> x) => Exponent == 2.0 ? x * x : Exponent == 0.5 ? Vector256.Sqrt(x) : x;
    public bool HasVector512 => HasVector;
    public Vector512<float> Vector512(Vector512<float> x) => Exponent == 2.0 ? x * x : Exponent == 0.5 ? System.Runtime.Intrinsics.Vector512.Sqrt(x) : x;
}

