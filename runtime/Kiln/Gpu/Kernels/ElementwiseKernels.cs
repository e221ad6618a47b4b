using ILGPU;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// Strided, broadcasting elementwise kernels, one thread per output element. Each is written once over
/// <see cref="IGpuNumber{T}"/> and compiled per compute type; the op is a uniform code. A 0-dim CPU operand arrives as a
/// value (<c>bIsValue</c>), so <c>x * 2</c> needs no upload.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class ElementwiseKernels
{
    /// <summary>y = op(x).</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(int), typeof(I32)), GpuKernel(typeof(long), typeof(I64))]
    public static void Unary<T, TN>(Index1D i, ArrayView<T> y, ArrayView<T> x, Dims6 d, Strides6 sy, Strides6 sx, int op, double p0, double p1)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        y[sy.Offset(i, d)] = default(TN).Unary(op, x[sx.Offset(i, d)], p0, p1);
    }

    /// <summary>y = op(a, b); b is <paramref name="bValue"/> when <paramref name="bIsValue"/> is set.</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(int), typeof(I32)), GpuKernel(typeof(long), typeof(I64))]
    public static void Binary<T, TN>(Index1D i, ArrayView<T> y, ArrayView<T> a, ArrayView<T> b, Dims6 d, Strides6 sy, Strides6 sa, Strides6 sb,
        int op, double p, int bIsValue, T bValue)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        T bv = bIsValue != 0 ? bValue : b[sb.Offset(i, d)];
        y[sy.Offset(i, d)] = default(TN).Binary(op, a[sa.Offset(i, d)], bv, p);
    }

    /// <summary>y = a op b as bool bytes.</summary>
    [GpuKernel(typeof(float), typeof(F32)), GpuKernel(typeof(double), typeof(F64)), GpuKernel(typeof(int), typeof(I32)), GpuKernel(typeof(long), typeof(I64))]
    public static void Compare<T, TN>(Index1D i, ArrayView<byte> y, ArrayView<T> a, ArrayView<T> b, Dims6 d, Strides6 sy, Strides6 sa, Strides6 sb,
        int op, int bIsValue, T bValue)
        where T : unmanaged where TN : struct, IGpuNumber<T>
    {
        T bv = bIsValue != 0 ? bValue : b[sb.Offset(i, d)];
        y[sy.Offset(i, d)] = default(TN).Compare(op, a[sa.Offset(i, d)], bv) ? (byte)1 : (byte)0;
    }

    /// <summary>y = cond ? a : b over raw elements of one size (the dtype does not matter to a select).</summary>
    [GpuKernel(typeof(byte)), GpuKernel(typeof(ushort)), GpuKernel(typeof(uint)), GpuKernel(typeof(ulong))]
    public static void Where<T>(Index1D i, ArrayView<T> y, ArrayView<byte> c, ArrayView<T> a, ArrayView<T> b, Dims6 d,
        Strides6 sy, Strides6 sc, Strides6 sa, Strides6 sb) where T : unmanaged
    {
        y[sy.Offset(i, d)] = c[sc.Offset(i, d)] != 0 ? a[sa.Offset(i, d)] : b[sb.Offset(i, d)];
    }

    /// <summary>y = x over raw elements of one size (copies, broadcasts, makes contiguous).</summary>
    [GpuKernel(typeof(byte)), GpuKernel(typeof(ushort)), GpuKernel(typeof(uint)), GpuKernel(typeof(ulong))]
    public static void Copy<T>(Index1D i, ArrayView<T> y, ArrayView<T> x, Dims6 d, Strides6 sy, Strides6 sx) where T : unmanaged
    {
        y[sy.Offset(i, d)] = x[sx.Offset(i, d)];
    }

    /// <summary>Every element of y set to one value (given as its raw bits).</summary>
    [GpuKernel(typeof(byte)), GpuKernel(typeof(ushort)), GpuKernel(typeof(uint)), GpuKernel(typeof(ulong))]
    public static void Fill<T>(Index1D i, ArrayView<T> y, T value) where T : unmanaged
    {
        y[i] = value;
    }

    /// <summary>y = x converted between dtypes (codes of <see cref="ElementCodec"/>), strided and broadcasting.</summary>
    [GpuKernel]
    public static void Convert(Index1D i, ArrayView<byte> y, ArrayView<byte> x, Dims6 d, Strides6 sy, Strides6 sx, int yType, int xType)
    {
        long xo = sx.Offset(i, d), yo = sy.Offset(i, d);
        if (ElementCodec.IsInteger(xType) && ElementCodec.IsInteger(yType)) ElementCodec.StoreLong(y, yo, yType, ElementCodec.LoadLong(x, xo, xType));
        else ElementCodec.StoreDouble(y, yo, yType, ElementCodec.LoadDouble(x, xo, xType));
    }
}
