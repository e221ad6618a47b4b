using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

/// <summary>A one-input function's derivative as a two-input kernel: v (the input or output its rule reads) and the output's gradient g.</summary>
internal interface IFloatGradFunction
{
    double Scalar(double v, double g);
    bool HasVector { get; }
    Vector256<float> Vector(Vector256<float> v, Vector256<float> g);
    bool HasVector512 { get; }
    Vector512<float> Vector512(Vector512<float> v, Vector512<float> g);
}

/// <summary>
/// Runs an <see cref="IFloatGradFunction"/> (generated from the op table's derivatives) on <see cref="GradPairLoop"/>: v
/// rides as a, the gradient as g, the result comes out as a's gradient (b's is never stored).
/// </summary>
internal struct FloatGrad<TF> : IFloatGradPair where TF : struct, IFloatGradFunction
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Scalar(double a, double b, double y, double g, out double ga, out double gb) { ga = default(TF).Scalar(a, g); gb = 0; }
    public bool HasVector => default(TF).HasVector;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Vector(Vector256<float> a, Vector256<float> b, Vector256<float> y, Vector256<float> g, out Vector256<float> ga, out Vector256<float> gb)
    { ga = default(TF).Vector(a, g); gb = g; }
    public bool HasVector512 => default(TF).HasVector512;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Vector512(Vector512<float> a, Vector512<float> b, Vector512<float> y, Vector512<float> g, out Vector512<float> ga, out Vector512<float> gb)
    { ga = default(TF).Vector512(a, g); gb = g; }

    /// <summary>The gradient from v and g (same shape, float32 on the CPU: the caller checked).</summary>
    public static Tensor Run(Tensor v, Tensor g) => GradPairLoop.Run<FloatGrad<TF>>(v, null, null, g, true, false)[0]!;
}
