using ILGPU;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// Gather and scatter along one dim, one thread per index element. Strides describe the walk over the index's shape;
/// the indexed dim's stride is applied to the index value (negative values count from the end; the host has checked the
/// bounds). <c>index_select</c> is a gather whose index is broadcast over the other dims.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class IndexKernels
{
    /// <summary>y[i] = x[walk(i) + index[i]·strideDim] over raw elements.</summary>
    [GpuKernel(typeof(byte)), GpuKernel(typeof(ushort)), GpuKernel(typeof(uint)), GpuKernel(typeof(ulong))]
    public static void Gather<T>(Index1D i, ArrayView<T> y, ArrayView<T> x, ArrayView<long> index, Dims6 d, Strides6 sy, Strides6 sx, Strides6 si,
        long strideDim, long size) where T : unmanaged
    {
        long k = index[si.Offset(i, d)];
        if (k < 0) k += size;
        y[sy.Offset(i, d)] = x[sx.Offset(i, d) + k * strideDim];
    }

    /// <summary>y[walk(i) + index[i]·strideDim] = src[i] (duplicates: one of them wins, as in PyTorch).</summary>
    [GpuKernel(typeof(byte)), GpuKernel(typeof(ushort)), GpuKernel(typeof(uint)), GpuKernel(typeof(ulong))]
    public static void Scatter<T>(Index1D i, ArrayView<T> y, ArrayView<T> src, ArrayView<long> index, Dims6 d, Strides6 sy, Strides6 ss, Strides6 si,
        long strideDim, long size) where T : unmanaged
    {
        long k = index[si.Offset(i, d)];
        if (k < 0) k += size;
        y[sy.Offset(i, d) + k * strideDim] = src[ss.Offset(i, d)];
    }

    /// <summary>y[walk(i) + index[i]·strideDim] += src[i], atomically (duplicates accumulate).</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(int), typeof(I32)), GpuKernel(typeof(long), typeof(I64))]
    public static void ScatterAdd<T, TN>(Index1D i, ArrayView<T> y, ArrayView<T> src, ArrayView<long> index, Dims6 d, Strides6 sy, Strides6 ss, Strides6 si,
        long strideDim, long size) where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        long k = index[si.Offset(i, d)];
        if (k < 0) k += size;
        default(TN).AtomicAdd(y, sy.Offset(i, d) + k * strideDim, src[ss.Offset(i, d)]);
    }
}
