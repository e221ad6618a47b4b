using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

/// <summary>A one-input function's derivative as a two-input kernel: v (the input or output its rule reads) and the output's gradient g.</summary>
internal interface IFloatGradFunction
{
    bool HasVector { get; }
    double Scalar(double v, double g);
    Vector256<float> Vector(Vector256<float> v, Vector256<float> g);
}

/// <summary>Adapts an <see cref="IFloatGradFunction"/> (generated from the op table's derivatives) to <see cref="IBinaryOp"/> for float and double.</summary>
internal struct FloatGrad<TF> : IBinaryOp where TF : struct, IFloatGradFunction
{
    public TF F;

    public bool Vectorized<T>() where T : unmanaged, INumber<T> => typeof(T) == typeof(float) && F.HasVector;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke<T>(T a, T b) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float)) { float r = (float)F.Scalar(Unsafe.As<T, float>(ref a), Unsafe.As<T, float>(ref b)); return Unsafe.As<float, T>(ref r); }
        if (typeof(T) == typeof(double)) { double r = F.Scalar(Unsafe.As<T, double>(ref a), Unsafe.As<T, double>(ref b)); return Unsafe.As<double, T>(ref r); }
        throw new InvalidOperationException("floating derivative on an integer compute type");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<T> Invoke<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, INumber<T> => F.Vector(a.As<T, float>(), b.As<T, float>()).As<float, T>();
}
