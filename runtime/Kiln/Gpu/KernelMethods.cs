using System;
using System.Reflection;
using Kiln.Gpu.Kernels;

namespace Kiln.Gpu;

/// <summary>The closed kernel methods for compute type <typeparamref name="T"/>, looked up once.</summary>
internal static class KernelMethods<T> where T : unmanaged
{
    /// <summary>The <see cref="IGpuNumber{T}"/> implementation for <typeparamref name="T"/>.</summary>
    public static readonly Type Number =
        typeof(T) == typeof(float) ? typeof(F32) : typeof(T) == typeof(double) ? typeof(F64) : typeof(T) == typeof(long) ? typeof(I64) : typeof(I32);

    public static readonly MethodInfo Unary = Close(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Unary), typeof(T), Number);
    public static readonly MethodInfo Binary = Close(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Binary), typeof(T), Number);
    public static readonly MethodInfo Compare = Close(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Compare), typeof(T), Number);
    public static readonly MethodInfo Reduce = Close(typeof(RowKernels), nameof(RowKernels.Reduce), typeof(T), Number);
    public static readonly MethodInfo ShortRows = Close(typeof(RowKernels), nameof(RowKernels.ShortRows), typeof(T), Number);
    public static readonly MethodInfo ShortExtreme = Close(typeof(RowKernels), nameof(RowKernels.ShortExtreme), typeof(T), Number);
    public static readonly MethodInfo ShortSoftmax = Close(typeof(RowKernels), nameof(RowKernels.ShortSoftmax), typeof(T), Number);
    public static readonly MethodInfo FinishSplit = Close(typeof(RowKernels), nameof(RowKernels.FinishSplit), typeof(T), Number);
    public static readonly MethodInfo Extreme = Close(typeof(RowKernels), nameof(RowKernels.Extreme), typeof(T), Number);
    public static readonly MethodInfo Softmax = Close(typeof(RowKernels), nameof(RowKernels.Softmax), typeof(T), Number);
    public static readonly MethodInfo CumSum = Close(typeof(RowKernels), nameof(RowKernels.CumSum), typeof(T), Number);
    public static readonly MethodInfo ScatterAdd = Close(typeof(IndexKernels), nameof(IndexKernels.ScatterAdd), typeof(T), Number);

    internal static MethodInfo Close(Type type, string name, params Type[] args) =>
        type.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!.MakeGenericMethod(args);
}

/// <summary>Kernels over raw elements of <typeparamref name="T"/>'s size (byte, ushort, uint, ulong).</summary>
internal static class RawKernelMethods<T> where T : unmanaged
{
    public static readonly MethodInfo Copy = Close(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Copy), typeof(T));
    public static readonly MethodInfo Where = Close(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Where), typeof(T));
    public static readonly MethodInfo Fill = Close(typeof(ElementwiseKernels), nameof(ElementwiseKernels.Fill), typeof(T));
    public static readonly MethodInfo Gather = Close(typeof(IndexKernels), nameof(IndexKernels.Gather), typeof(T));
    public static readonly MethodInfo Scatter = Close(typeof(IndexKernels), nameof(IndexKernels.Scatter), typeof(T));

    static MethodInfo Close(Type type, string name, params Type[] args) => KernelMethods<float>.Close(type, name, args);
}

/// <summary>Non-generic kernels.</summary>
internal static class KernelMethods
{
    public static readonly MethodInfo Convert = typeof(ElementwiseKernels).GetMethod(nameof(ElementwiseKernels.Convert))!;
    public static readonly MethodInfo Sgemm = typeof(GemmKernels).GetMethod(nameof(GemmKernels.Sgemm))!;
    public static readonly MethodInfo Mma16 = typeof(TensorCoreKernels).GetMethod(nameof(TensorCoreKernels.Mma16))!;
    public static readonly MethodInfo MaxPool = typeof(WindowKernels).GetMethod(nameof(WindowKernels.MaxPool))!;
    public static readonly MethodInfo Im2Col = typeof(WindowKernels).GetMethod(nameof(WindowKernels.Im2Col))!;
    public static readonly MethodInfo Col2Im = typeof(WindowKernels).GetMethod(nameof(WindowKernels.Col2Im))!;
    public static readonly MethodInfo Sgd = typeof(OptimizerKernels).GetMethod(nameof(OptimizerKernels.Sgd))!;
    public static readonly MethodInfo Adam = typeof(OptimizerKernels).GetMethod(nameof(OptimizerKernels.Adam))!;
    public static readonly MethodInfo RmsProp = typeof(OptimizerKernels).GetMethod(nameof(OptimizerKernels.RmsProp))!;
    public static readonly MethodInfo Adagrad = typeof(OptimizerKernels).GetMethod(nameof(OptimizerKernels.Adagrad))!;
    public static readonly MethodInfo Dequantize4Bit = typeof(QuantKernels).GetMethod(nameof(QuantKernels.Dequantize4Bit))!;
    public static readonly MethodInfo FusedMatmul4Bit = typeof(QuantKernels).GetMethod(nameof(QuantKernels.FusedMatmul4Bit))!;
    public static readonly MethodInfo FusedMatmulInt8 = typeof(QuantKernels).GetMethod(nameof(QuantKernels.FusedMatmulInt8))!;
    public static readonly MethodInfo DequantizeInt8Rows = typeof(QuantKernels).GetMethod(nameof(QuantKernels.DequantizeInt8Rows))!;
}
