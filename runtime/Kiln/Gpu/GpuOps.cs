using System;
using ILGPU;
using ILGPU.Runtime;
using Kiln.Compiler.Shapes;
using Kiln.Gpu.Kernels;
using Kiln.Kernels;
using Kiln.Kernels.Elementwise;

namespace Kiln.Gpu;

/// <summary>
/// Host side of the CUDA backend's eager ops: the same entry points as the CPU's <see cref="TypeDispatch"/> and
/// <see cref="CopyKernel"/> (they forward here for CUDA tensors), each one kernel launch on the device's stream.
/// </summary>
internal static unsafe class GpuOps
{
    /// <summary>The device of a CUDA tensor (after checking every CUDA operand is on the same one).</summary>
    static GpuDevice DeviceOf(string op, Tensor y, params Tensor[] inputs)
    {
        var dev = y.Storage.Gpu ?? throw new KilnException(op, $"{op}: the output is on {y.Device}, expected a CUDA tensor", KilnErrorKind.Device);
        foreach (var t in inputs)
            if (t.Device != y.Device && !(t.Dim == 0 && t.Device.Type == DeviceType.Cpu))
                throw new KilnException(op, $"{op}: expected all tensors to be on the same device, but found at least two devices, {y.Device} and {t.Device}", KilnErrorKind.Device);
        return dev;
    }

    /// <summary>A 0-dim host tensor's value, for operands passed to kernels by value.</summary>
    static T HostValue<T>(Tensor t) where T : unmanaged => *(T*)t.DataPointer;

    static bool IsHostScalar(Tensor t) => t.Device.Type == DeviceType.Cpu;

    // ---- elementwise --------------------------------------------------------------------------------

    public static void Unary<TOp>(Tensor y, Tensor x, TOp op) where TOp : struct, IUnaryOp
    {
        var dev = DeviceOf("unary", y, x);
        var (code, p0, p1) = UnaryCodeOf(op);
        using var xd = OnDevice(x, dev);
        switch (y.DType)
        {
            case DType.Float32: Unary<float>(dev, y, xd, code, p0, p1); break;
            case DType.Float64: Unary<double>(dev, y, xd, code, p0, p1); break;
            case DType.Int64: Unary<long>(dev, y, xd, code, p0, p1); break;
            default: Unary<int>(dev, y, xd, code, p0, p1); break;
        }
    }

    static void Unary<T>(GpuDevice dev, Tensor y, Tensor x, int code, double p0, double p1) where T : unmanaged
    {
        var g = GpuGeometry.Of("unary", y.ShapeArray, y.StrideArray, LoopPlan.BroadcastStrides(x, y.ShapeArray));
        if (g.Count == 0) return;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, Dims6, Strides6, Strides6, int, double, double>>(KernelMethods<T>.Unary)
            (dev.Stream, g.Count, y.View<T>(), x.View<T>(), g.Dims, g.Strides[0], g.Strides[1], code, p0, p1);
    }

    public static void Binary<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryOp
    {
        var dev = DeviceOf("binary", y, a, b);
        var (code, p) = BinaryCodeOf(op);
        if (code is BinaryCode.ShiftLeft or BinaryCode.ShiftRight) p = y.DType == DType.Int64 ? 64 : 32;
        switch (y.DType)
        {
            case DType.Float32: Binary<float>(dev, y, a, b, code, p); break;
            case DType.Float64: Binary<double>(dev, y, a, b, code, p); break;
            case DType.Int64: Binary<long>(dev, y, a, b, code, p); break;
            default: Binary<int>(dev, y, a, b, code, p); break;
        }
    }

    static void Binary<T>(GpuDevice dev, Tensor y, Tensor a, Tensor b, int code, double p) where T : unmanaged
    {
        // A host scalar on the left: upload it (rare: `2 - x`); on the right it rides along as a kernel argument.
        using var ad = OnDevice(a, dev);
        bool bValue = IsHostScalar(b);
        var g = GpuGeometry.Of("binary", y.ShapeArray, y.StrideArray, LoopPlan.BroadcastStrides(ad, y.ShapeArray), bValue ? new long[y.Dim] : LoopPlan.BroadcastStrides(b, y.ShapeArray));
        if (g.Count == 0) return;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<T>, Dims6, Strides6, Strides6, Strides6, int, double, int, T>>(KernelMethods<T>.Binary)
            (dev.Stream, g.Count, y.View<T>(), ad.View<T>(), bValue ? ad.View<T>() : b.View<T>(), g.Dims, g.Strides[0], g.Strides[1], g.Strides[2], code, p,
             bValue ? 1 : 0, bValue ? HostValue<T>(b) : default);
    }

    public static void Compare<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, ICompareOp
    {
        var dev = DeviceOf("compare", y, a, b);
        int code = op switch
        {
            EqOp => CompareCode.Eq,
            NeOp => CompareCode.Ne,
            LtOp => CompareCode.Lt,
            LeOp => CompareCode.Le,
            GtOp => CompareCode.Gt,
            _ => CompareCode.Ge,
        };
        switch (a.DType)
        {
            case DType.Float32: Compare<float>(dev, y, a, b, code); break;
            case DType.Float64: Compare<double>(dev, y, a, b, code); break;
            case DType.Int64: Compare<long>(dev, y, a, b, code); break;
            default: Compare<int>(dev, y, a, b, code); break;
        }
    }

    static void Compare<T>(GpuDevice dev, Tensor y, Tensor a, Tensor b, int code) where T : unmanaged
    {
        using var ad = OnDevice(a, dev);
        bool bValue = IsHostScalar(b);
        var g = GpuGeometry.Of("compare", y.ShapeArray, y.StrideArray, LoopPlan.BroadcastStrides(ad, y.ShapeArray), bValue ? new long[y.Dim] : LoopPlan.BroadcastStrides(b, y.ShapeArray));
        if (g.Count == 0) return;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<byte>, ArrayView<T>, ArrayView<T>, Dims6, Strides6, Strides6, Strides6, int, int, T>>(KernelMethods<T>.Compare)
            (dev.Stream, g.Count, y.View<byte>(), ad.View<T>(), bValue ? ad.View<T>() : b.View<T>(), g.Dims, g.Strides[0], g.Strides[1], g.Strides[2], code,
             bValue ? 1 : 0, bValue ? HostValue<T>(b) : default);
    }

    public static void Where(Tensor y, Tensor cond, Tensor a, Tensor b)
    {
        var dev = DeviceOf("where", y, cond, a, b);
        using var c = OnDevice(cond, dev);
        using var ad = OnDevice(a, dev);
        using var bd = OnDevice(b, dev);
        switch (y.DType.SizeOf())
        {
            case 1: Where<byte>(dev, y, c, ad, bd); break;
            case 2: Where<ushort>(dev, y, c, ad, bd); break;
            case 4: Where<uint>(dev, y, c, ad, bd); break;
            default: Where<ulong>(dev, y, c, ad, bd); break;
        }
    }

    static void Where<T>(GpuDevice dev, Tensor y, Tensor c, Tensor a, Tensor b) where T : unmanaged
    {
        var s = y.ShapeArray;
        var g = GpuGeometry.Of("where", s, y.StrideArray, LoopPlan.BroadcastStrides(c, s), LoopPlan.BroadcastStrides(a, s), LoopPlan.BroadcastStrides(b, s));
        if (g.Count == 0) return;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<byte>, ArrayView<T>, ArrayView<T>, Dims6, Strides6, Strides6, Strides6, Strides6>>(RawKernelMethods<T>.Where)
            (dev.Stream, g.Count, y.View<T>(), c.View<byte>(), a.View<T>(), b.View<T>(), g.Dims, g.Strides[0], g.Strides[1], g.Strides[2], g.Strides[3]);
    }

    // ---- copies -------------------------------------------------------------------------------------

    /// <summary>dst = src (broadcast, converted) where either side is on a CUDA device.</summary>
    public static void Copy(Tensor dst, Tensor src)
    {
        if (dst.IsCuda && src.IsCuda)
        {
            var dev = DeviceOf("copy_", dst, src);
            DeviceCopy(dev, dst, src);
        }
        else if (dst.IsCuda) Upload(dst.Storage.Gpu!, dst, src);
        else Download(src.Storage.Gpu!, dst, src);
    }

    static void DeviceCopy(GpuDevice dev, Tensor dst, Tensor src)
    {
        var s = dst.ShapeArray;
        if (dst.DType != src.DType)
        {
            var g = GpuGeometry.Of("copy_", s, dst.StrideArray, LoopPlan.BroadcastStrides(src, s));
            if (g.Count == 0) return;
            dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<byte>, ArrayView<byte>, Dims6, Strides6, Strides6, int, int>>(KernelMethods.Convert)
                (dev.Stream, g.Count, dst.View<byte>(), src.View<byte>(), g.Dims, g.Strides[0], g.Strides[1], (int)dst.DType, (int)src.DType);
            return;
        }
        switch (dst.DType.SizeOf())
        {
            case 1: RawCopy<byte>(dev, dst, src); break;
            case 2: RawCopy<ushort>(dev, dst, src); break;
            case 4: RawCopy<uint>(dev, dst, src); break;
            default: RawCopy<ulong>(dev, dst, src); break;
        }
    }

    static void RawCopy<T>(GpuDevice dev, Tensor dst, Tensor src) where T : unmanaged
    {
        if (dst.IsContiguous && src.IsContiguous && ShapeRules.SameShape(dst.ShapeArray, src.ShapeArray))
        {
            // A plain device-to-device copy (the driver's memcpy: full bandwidth, no index arithmetic).
            long bytes = dst.Numel * dst.DType.SizeOf();
            if (bytes > 0) src.View<byte>().SubView(0, bytes).CopyTo(dev.Stream, dst.View<byte>().SubView(0, bytes));
            return;
        }
        var s = dst.ShapeArray;
        var g = GpuGeometry.Of("copy_", s, dst.StrideArray, LoopPlan.BroadcastStrides(src, s));
        if (g.Count == 0) return;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, Dims6, Strides6, Strides6>>(RawKernelMethods<T>.Copy)
            (dev.Stream, g.Count, dst.View<T>(), src.View<T>(), g.Dims, g.Strides[0], g.Strides[1]);
    }

    /// <summary>Host to device: the host side made contiguous in the source dtype, staged through pinned memory.</summary>
    static void Upload(GpuDevice dev, Tensor dst, Tensor src)
    {
        using var host = src.IsContiguous ? src.Alias() : CopyKernel.Convert(src, src.DType);
        bool direct = dst.IsContiguous && dst.DType == src.DType && ShapeRules.SameShape(dst.ShapeArray, src.ShapeArray);
        using var staged = direct ? dst.Alias() : Tensor.Allocate((int[])src.ShapeArray.Clone(), src.DType, false, dst.Device);
        long bytes = host.Numel * host.DType.SizeOf();
        if (bytes > 0)
        {
            var target = staged.View<byte>().SubView(0, bytes);
            byte* from = host.DataPointer;
            Staged(dev, bytes, (pinned, at, n) =>
            {
                new ReadOnlySpan<byte>(from + at, n).CopyTo(pinned.Span);
                target.SubView(at, n).CopyFrom(dev.Stream, pinned.ArrayView.SubView(0, n));
                dev.Stream.Synchronize(); // the pinned buffer is reused for the next chunk
            });
        }
        if (!direct) DeviceCopy(dev, dst, staged);
    }

    /// <summary>Device to host: the device side made contiguous, copied through pinned memory; the host waits here.</summary>
    static void Download(GpuDevice dev, Tensor dst, Tensor src)
    {
        using var contiguous = src.IsContiguous ? src.Alias() : Contiguous(dev, src);
        bool direct = dst.IsContiguous && dst.DType == src.DType && ShapeRules.SameShape(dst.ShapeArray, src.ShapeArray);
        using var host = direct ? dst.Alias() : Tensor.Allocate((int[])src.ShapeArray.Clone(), src.DType);
        long bytes = host.Numel * host.DType.SizeOf();
        if (bytes > 0)
        {
            var source = contiguous.View<byte>().SubView(0, bytes);
            byte* to = host.DataPointer;
            Staged(dev, bytes, (pinned, at, n) =>
            {
                pinned.ArrayView.SubView(0, n).CopyFrom(dev.Stream, source.SubView(at, n));
                dev.Stream.Synchronize();
                pinned.Span[..n].CopyTo(new Span<byte>(to + at, n));
            });
        }
        if (!direct) CopyKernel.Copy(dst, host);
    }

    /// <summary>Runs <paramref name="chunk"/> over <paramref name="bytes"/> in pieces of the device's pinned staging buffer (at most 64 MiB).</summary>
    static void Staged(GpuDevice dev, long bytes, Action<ILGPU.Runtime.PageLockedArray1D<byte>, long, int> chunk)
    {
        const long Chunk = 64L << 20;
        dev.WithStaging(Math.Min(bytes, Chunk), pinned =>
        {
            for (long at = 0; at < bytes; at += Chunk) chunk(pinned, at, (int)Math.Min(Chunk, bytes - at));
        });
    }

    static Tensor Contiguous(GpuDevice dev, Tensor src)
    {
        var r = Tensor.Allocate((int[])src.ShapeArray.Clone(), src.DType, false, src.Device);
        DeviceCopy(dev, r, src);
        return r;
    }

    /// <summary>The tensor itself (a new reference) when on <paramref name="dev"/>, else a copy there (host scalars).</summary>
    static Tensor OnDevice(Tensor t, GpuDevice dev)
    {
        if (t.Storage.Gpu == dev) return t.Alias();
        var r = Tensor.Allocate((int[])t.ShapeArray.Clone(), t.DType, false, dev.Device);
        Copy(r, t);
        return r;
    }

    /// <summary>Every element of <paramref name="y"/> set to <paramref name="value"/> converted to its dtype.</summary>
    public static void Fill(Tensor y, double value)
    {
        var dev = DeviceOf("fill_", y);
        using var host = Tensor.Full([], value, y.DType);
        if (!y.IsContiguous)
        {
            DeviceCopyFromHostScalar(dev, y, host);
            return;
        }
        switch (y.DType.SizeOf())
        {
            case 1: Fill(dev, y, HostValue<byte>(host)); break;
            case 2: Fill(dev, y, HostValue<ushort>(host)); break;
            case 4: Fill(dev, y, HostValue<uint>(host)); break;
            default: Fill(dev, y, HostValue<ulong>(host)); break;
        }
    }

    static void DeviceCopyFromHostScalar(GpuDevice dev, Tensor y, Tensor host)
    {
        using var d = OnDevice(host, dev);
        DeviceCopy(dev, y, d);
    }

    static void Fill<T>(GpuDevice dev, Tensor y, T value) where T : unmanaged
    {
        long n = y.Numel;
        if (n == 0) return;
        if (n > int.MaxValue) throw new KilnException("fill_", $"fill_: {n} elements exceed one CUDA launch", KilnErrorKind.Device);
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, T>>(RawKernelMethods<T>.Fill)(dev.Stream, (int)n, y.View<T>(), value);
    }

    // ---- indexing -----------------------------------------------------------------------------------

    /// <summary>
    /// Checks every index of a CUDA index tensor lies in [-size, size) (in [0, size) without <paramref name="allowNegative"/>):
    /// its min and max are read back (the host waits here, as PyTorch's device-side assert would stop the program).
    /// </summary>
    public static void CheckBounds(string op, Tensor index, int size, int dim, bool allowNegative = true)
    {
        if (index.Numel == 0) return;
        using var flat = index.Reshape(-1);
        using var lo = flat.Min();
        using var hi = flat.Max();
        long min = lo.Item<long>(), max = hi.Item<long>();
        long floor = allowNegative ? -size : 0;
        long bad = min < floor ? min : max >= size ? max : 0;
        if (min < floor || max >= size)
            throw new KilnException(op, $"{op}: index {bad} is out of bounds for dimension {dim} with size {size}", KilnErrorKind.Index);
    }

    /// <summary>
    /// y = x gathered along <paramref name="dim"/> by <paramref name="index"/> (int64 on the device), walking y's shape:
    /// the index's shape for gather, the output's for index_select (<paramref name="indexStrides"/> 0 off the dim).
    /// </summary>
    public static void Gather(Tensor y, Tensor x, Tensor index, long[] indexStrides, int dim)
    {
        var dev = DeviceOf("gather", y, x, index);
        var xs = (long[])x.StrideArray.Clone();
        long strideDim = x.Dim == 0 ? 0 : xs[dim];
        long size = x.Dim == 0 ? 1 : x.ShapeArray[dim];
        if (x.Dim > 0) xs[dim] = 0;
        var g = GpuGeometry.Of("gather", y.ShapeArray, y.StrideArray, xs, indexStrides);
        if (g.Count == 0) return;
        switch (y.DType.SizeOf())
        {
            case 1: Indexed<byte>(dev, RawKernelMethods<byte>.Gather, y, x, index, g, strideDim, size); break;
            case 2: Indexed<ushort>(dev, RawKernelMethods<ushort>.Gather, y, x, index, g, strideDim, size); break;
            case 4: Indexed<uint>(dev, RawKernelMethods<uint>.Gather, y, x, index, g, strideDim, size); break;
            default: Indexed<ulong>(dev, RawKernelMethods<ulong>.Gather, y, x, index, g, strideDim, size); break;
        }
    }

    /// <summary>work[... index ...] = src (or += with <paramref name="add"/>) along <paramref name="dim"/>, walking the index's shape.</summary>
    public static void Scatter(Tensor work, Tensor src, Tensor index, int dim, bool add)
    {
        var dev = DeviceOf("scatter", work, src, index);
        var ws = (long[])work.StrideArray.Clone();
        long strideDim = work.Dim == 0 ? 0 : ws[dim];
        long size = work.Dim == 0 ? 1 : work.ShapeArray[dim];
        if (work.Dim > 0) ws[dim] = 0;
        var shape = index.ShapeArray;
        var g = GpuGeometry.Of("scatter", shape, ws, LoopPlan.BroadcastStrides(src, shape), index.StrideArray);
        if (g.Count == 0) return;
        if (add)
        {
            switch (work.DType)
            {
                case DType.Float32: Indexed<float>(dev, KernelMethods<float>.ScatterAdd, work, src, index, g, strideDim, size); break;
                case DType.Float64: Indexed<double>(dev, KernelMethods<double>.ScatterAdd, work, src, index, g, strideDim, size); break;
                case DType.Int64: Indexed<long>(dev, KernelMethods<long>.ScatterAdd, work, src, index, g, strideDim, size); break;
                default: Indexed<int>(dev, KernelMethods<int>.ScatterAdd, work, src, index, g, strideDim, size); break;
            }
            return;
        }
        switch (work.DType.SizeOf())
        {
            case 1: Indexed<byte>(dev, RawKernelMethods<byte>.Scatter, work, src, index, g, strideDim, size); break;
            case 2: Indexed<ushort>(dev, RawKernelMethods<ushort>.Scatter, work, src, index, g, strideDim, size); break;
            case 4: Indexed<uint>(dev, RawKernelMethods<uint>.Scatter, work, src, index, g, strideDim, size); break;
            default: Indexed<ulong>(dev, RawKernelMethods<ulong>.Scatter, work, src, index, g, strideDim, size); break;
        }
    }

    static void Indexed<T>(GpuDevice dev, System.Reflection.MethodInfo kernel, Tensor a, Tensor b, Tensor index, GpuGeometry g, long strideDim, long size) where T : unmanaged =>
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<long>, Dims6, Strides6, Strides6, Strides6, long, long>>(kernel)
            (dev.Stream, g.Count, a.View<T>(), b.View<T>(), index.View<long>(), g.Dims, g.Strides[0], g.Strides[1], g.Strides[2], strideDim, size);

    // ---- rows ---------------------------------------------------------------------------------------

    /// <summary>y[r] = sum / mean / log-sum-exp of row r of contiguous x [rows, length].</summary>
    public static void RowReduce(Tensor x, Tensor y, long rows, long length, int op)
    {
        var dev = DeviceOf("reduce", y, x);
        if (rows == 0) return;
        CheckRows("reduce", rows);
        switch (y.DType)
        {
            case DType.Float32: Reduce<float>(dev, x, y, rows, length, op); break;
            case DType.Float64: Reduce<double>(dev, x, y, rows, length, op); break;
            case DType.Int64: Reduce<long>(dev, x, y, rows, length, op); break;
            default: Reduce<int>(dev, x, y, rows, length, op); break;
        }
    }

    static void CheckRows(string op, long rows)
    {
        if (rows > int.MaxValue) throw new KilnException(op, $"{op}: {rows} rows exceed one CUDA launch", KilnErrorKind.Device);
    }

    /// <summary>Running sums along the rows of contiguous x [rows, length], in place.</summary>
    public static void CumSum(Tensor x, long rows, long length)
    {
        var dev = DeviceOf("cumsum", x);
        if (rows == 0 || length == 0) return;
        CheckRows("cumsum", rows);
        switch (x.DType)
        {
            case DType.Float32: CumSum<float>(dev, x, rows, length); break;
            case DType.Float64: CumSum<double>(dev, x, rows, length); break;
            default: CumSum<long>(dev, x, rows, length); break;
        }
    }

    static void CumSum<T>(GpuDevice dev, Tensor x, long rows, long length) where T : unmanaged =>
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, long>>(KernelMethods<T>.CumSum)(dev.Stream, (int)rows, x.View<T>(), length);

    static KernelConfig RowConfig(GpuDevice dev, long rows) => new((int)rows, dev.RowGroupSize);

    /// <summary>Groups that keep the device busy: fewer rows than this split each row (an H200 has 132 multiprocessors).</summary>
    const int BusyGroups = 1024;

    /// <summary>Parts per row: one unless the rows are too few to fill the device and long enough to share out.</summary>
    internal static int SplitsFor(long rows, long length, int op) =>
        op == RowKernels.LogSumExp || rows >= BusyGroups / 2 ? 1 : (int)Math.Clamp(Math.Min(BusyGroups / rows, length / (8 * RowKernels.GroupSize)), 1, BusyGroups);

    static void Reduce<T>(GpuDevice dev, Tensor x, Tensor y, long rows, long length, int op) where T : unmanaged
    {
        if (length <= RowKernels.ShortRowLength)
        {
            // Many short rows (a leading dim reduced): one thread per row, see RowKernels.ShortRows.
            dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, long, int>>(KernelMethods<T>.ShortRows)
                (dev.Stream, (int)rows, x.View<T>(), y.View<T>(), length, op);
            return;
        }
        int splits = SplitsFor(rows, length, op);
        using var pd = Tensor.Allocate([(int)(splits > 1 ? rows * splits : 1)], DType.Float64, false, dev.Device);
        using var pl = Tensor.Allocate([(int)(splits > 1 ? rows * splits : 1)], DType.Int64, false, dev.Device);
        dev.Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<double>, ArrayView<long>, long, int, int>>(KernelMethods<T>.Reduce)
            (dev.Stream, RowConfig(dev, rows * splits), x.View<T>(), y.View<T>(), pd.View<double>(), pl.View<long>(), length, op, splits);
        if (splits > 1)
            dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<double>, ArrayView<long>, long, int, int>>(KernelMethods<T>.FinishSplit)
                (dev.Stream, (int)rows, y.View<T>(), pd.View<double>(), pl.View<long>(), length, op, splits);
    }

    /// <summary>values / indices of each row's max (or min) of contiguous x [rows, length].</summary>
    public static void Extreme(Tensor x, Tensor values, Tensor indices, long rows, long length, bool max)
    {
        var dev = DeviceOf("max", values, x, indices);
        if (rows == 0) return;
        CheckRows(max ? "max" : "min", rows);
        switch (values.DType)
        {
            case DType.Float32: Extreme<float>(dev, x, values, indices, rows, length, max); break;
            case DType.Float64: Extreme<double>(dev, x, values, indices, rows, length, max); break;
            case DType.Int64: Extreme<long>(dev, x, values, indices, rows, length, max); break;
            default: Extreme<int>(dev, x, values, indices, rows, length, max); break;
        }
    }

    static void Extreme<T>(GpuDevice dev, Tensor x, Tensor values, Tensor indices, long rows, long length, bool max) where T : unmanaged
    {
        if (length is >= 1 and <= RowKernels.ShortRowLength)
            dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, ArrayView<long>, long, int>>(KernelMethods<T>.ShortExtreme)
                (dev.Stream, (int)rows, x.View<T>(), values.View<T>(), indices.View<long>(), length, max ? 1 : 0);
        else
            dev.Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<long>, long, int>>(KernelMethods<T>.Extreme)
                (dev.Stream, RowConfig(dev, rows), x.View<T>(), values.View<T>(), indices.View<long>(), length, max ? 1 : 0);
    }

    /// <summary>Softmax or log-softmax of x·scale along the rows of contiguous x [rows, length].</summary>
    public static void Softmax(Tensor x, Tensor y, long rows, long length, bool log, double scale)
    {
        var dev = DeviceOf("softmax", y, x);
        if (rows == 0) return;
        CheckRows("softmax", rows);
        if (y.DType == DType.Float32) Softmax<float>(dev, x, y, rows, length, log, scale);
        else Softmax<double>(dev, x, y, rows, length, log, scale);
    }

    static void Softmax<T>(GpuDevice dev, Tensor x, Tensor y, long rows, long length, bool log, double scale) where T : unmanaged
    {
        if (length <= RowKernels.ShortRowLength)
            dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<T>, ArrayView<T>, long, int, double>>(KernelMethods<T>.ShortSoftmax)
                (dev.Stream, (int)rows, x.View<T>(), y.View<T>(), length, log ? 1 : 0, scale);
        else
            dev.Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, long, int, double>>(KernelMethods<T>.Softmax)
                (dev.Stream, RowConfig(dev, rows), x.View<T>(), y.View<T>(), length, log ? 1 : 0, scale);
    }

    // ---- matrix product -----------------------------------------------------------------------------

    /// <summary>
    /// C[i] = alpha·A[i]·B[i] + beta·C[i] over one batch dim (float32): a and b give their row/column strides and batch
    /// strides (0 = broadcast), c is contiguous [batch, m, n].
    /// </summary>
    public static void Gemm(Tensor a, long rowA, long colA, long batchA, Tensor b, long rowB, long colB, long batchB, Tensor c,
        int batch, int m, int n, int k, double alpha, double beta)
    {
        var dev = DeviceOf("matmul", c, a, b);
        if (c.DType != DType.Float32)
            throw new KilnException("matmul", $"matmul: the CUDA backend multiplies float32, float16 and bfloat16 matrices, got {c.DType.Name()}", KilnErrorKind.Device);
        if (batch == 0 || m == 0 || n == 0) return;
        var s = new GemmShape { M = m, N = n, K = k, RowA = rowA, ColA = colA, BatchA = batchA, RowB = rowB, ColB = colB, BatchB = batchB, BatchC = (long)m * n, Alpha = (float)alpha, Beta = (float)beta };
        int t = dev.GemmTile;
        var config = new KernelConfig(new Index3D((n + t - 1) / t, (m + t - 1) / t, batch), new Index3D(t, t, 1));
        dev.Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>>(KernelMethods.Sgemm)
            (dev.Stream, config, a.View<float>(), b.View<float>(), c.View<float>(), s);
    }

    /// <summary>Whether <paramref name="t"/>'s device runs inline PTX (a real GPU: tensor-core instructions; not the emulator).</summary>
    public static bool HasTensorCores(Tensor t) => !_tensorCoresFailed && t.Storage.Gpu is { Emulated: false };

    static bool _tensorCoresFailed;

    /// <summary>A float16/bfloat16 product on tensor cores (<see cref="TensorCoreKernels.Mma16"/>), c contiguous [batch, m, n]; false when the kernel cannot load.</summary>
    public static bool TensorCoreGemm(Tensor a, long rowA, long colA, long batchA, Tensor b, long rowB, long colB, long batchB, Tensor c,
        int batch, int m, int n, int k, double alpha, double beta)
    {
        var dev = DeviceOf("matmul", c, a, b);
        if (batch == 0 || m == 0 || n == 0) return true;
        var s = new GemmShape { M = m, N = n, K = k, RowA = rowA, ColA = colA, BatchA = batchA, RowB = rowB, ColB = colB, BatchB = batchB, BatchC = (long)m * n, Alpha = (float)alpha, Beta = (float)beta };
        var config = new KernelConfig(new Index3D((n + 7) / 8, (m + 15) / 16, batch), new Index3D(TensorCoreKernels.Warp, 1, 1));
        Action<AcceleratorStream, KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, GemmShape, int> launch;
        try
        {
            launch = dev.Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<ushort>, GemmShape, int>>(KernelMethods.Mma16);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A driver that cannot take the mma.sync PTX: the float32 tiles take over for the rest of the process.
            _tensorCoresFailed = true;
            Console.Error.WriteLine($"kiln: warning: the tensor-core GEMM kernel could not be loaded ({e.Message}); float16/bfloat16 products run on float32 tiles");
            return false;
        }
        launch(dev.Stream, config, a.View<ushort>(), b.View<ushort>(), c.View<ushort>(), s, c.DType == DType.BFloat16 ? 1 : 0);
        return true;
    }

    // ---- windows ------------------------------------------------------------------------------------

    /// <summary>The kernels' window of a [N, C, H, W] input with output size (oh, ow).</summary>
    public static Window2d Window(int[] input, int oh, int ow, Kiln.Compiler.Shapes.ConvGeometry g) => new()
    {
        C = input[1],
        H = input[2],
        W = input[3],
        OH = oh,
        OW = ow,
        KH = g.KH,
        KW = g.KW,
        DH = g.DH,
        DW = g.DW,
        PH = g.PH,
        PW = g.PW,
        SH = g.SH,
        SW = g.SW,
    };

    static void RequireFloat32Window(string op, Tensor t)
    {
        if (t.DType != DType.Float32) throw new KilnException(op, $"{op}: the CUDA backend runs float32 windows, got {t.DType.Name()} on {t.Device}", KilnErrorKind.Device);
    }

    /// <summary>Max pool of contiguous x into y and indices (each [N, C, OH, OW]).</summary>
    public static void MaxPool2d(Tensor x, Tensor y, Tensor indices, Window2d w)
    {
        RequireFloat32Window("max_pool2d", x);
        var dev = DeviceOf("max_pool2d", y, x, indices);
        long n = y.Numel;
        if (n == 0) return;
        if (n > int.MaxValue) throw new KilnException("max_pool2d", $"max_pool2d: {n} outputs exceed one CUDA launch", KilnErrorKind.Device);
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<long>, Window2d>>(KernelMethods.MaxPool)
            (dev.Stream, (int)n, x.View<float>(), y.View<float>(), indices.View<long>(), w);
    }

    /// <summary>cols [N, C·KH·KW, OH·OW] from contiguous x, or (<paramref name="back"/>) dx += cols scattered back.</summary>
    public static void Columns(Tensor image, Tensor cols, Window2d w, bool back)
    {
        RequireFloat32Window("conv2d", image);
        var dev = DeviceOf("conv2d", cols, image);
        long n = cols.Numel;
        if (n == 0) return;
        if (n > int.MaxValue) throw new KilnException("conv2d", $"conv2d: {n} column elements exceed one CUDA launch; use a smaller batch", KilnErrorKind.Device);
        var launch = dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, Window2d>>(back ? KernelMethods.Col2Im : KernelMethods.Im2Col);
        if (back) launch(dev.Stream, (int)n, cols.View<float>(), image.View<float>(), w);
        else launch(dev.Stream, (int)n, image.View<float>(), cols.View<float>(), w);
    }

    // ---- optimizers ---------------------------------------------------------------------------------

    static void RequireFloat32(string op, Tensor p)
    {
        if (p.DType != DType.Float32)
            throw new KilnException(op, $"{op}: the CUDA backend updates float32 parameters, got {p.DType.Name()} on {p.Device}", KilnErrorKind.Device);
    }

    /// <summary>
    /// <paramref name="y"/> (float32, n elements) = the 4-bit codes of <paramref name="packed"/> looked up in
    /// <paramref name="table"/> and scaled by <paramref name="absmax"/> per <paramref name="blocksize"/> elements (all on one device, contiguous).
    /// </summary>
    public static void Dequantize4Bit(Tensor y, Tensor packed, Tensor table, Tensor absmax, int blocksize)
    {
        var dev = DeviceOf("dequantize_4bit", y, packed, table, absmax);
        if (y.Numel > int.MaxValue) throw new KilnException("dequantize_4bit", $"dequantize_4bit: {y.Numel} elements exceed one CUDA launch", KilnErrorKind.Device);
        if (y.Numel == 0) return;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<byte>, ArrayView<float>, ArrayView<float>, int>>(KernelMethods.Dequantize4Bit)
            (dev.Stream, (int)y.Numel, y.View<float>(), packed.View<byte>(), table.View<float>(), absmax.View<float>(), blocksize);
    }

    /// <summary>
    /// <paramref name="y"/> [m, out] = <paramref name="x"/> [m, in] · the 4-bit weight [out, in] ᵀ (+ <paramref name="bias"/>)
    /// without dequantizing it (<see cref="QuantKernels.FusedMatmul4Bit"/>; m ≤ <see cref="QuantKernels.MaxRows"/>, in even).
    /// </summary>
    public static void FusedMatmul4Bit(Tensor y, Tensor x, Tensor packed, Tensor table, Tensor absmax, Tensor? bias, int m, int inFeatures, int outFeatures, int blocksize)
    {
        var dev = DeviceOf("linear_4bit", y, x, packed, table, absmax);
        if (m < 1 || m > QuantKernels.MaxRows || inFeatures % 2 != 0 || blocksize % 2 != 0)
            throw new KilnException("linear_4bit", $"linear_4bit: the fused device product takes 1 to {QuantKernels.MaxRows} rows and an even in_features and blocksize, got {m} rows, in_features={inFeatures}, blocksize={blocksize}", KilnErrorKind.Shape);
        if (outFeatures == 0) return;
        dev.Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<byte>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>>(KernelMethods.FusedMatmul4Bit)
            (dev.Stream, new KernelConfig(outFeatures, dev.QuantGroupSize), y.View<float>(), x.View<float>(), packed.View<byte>(), table.View<float>(), absmax.View<float>(),
             (bias ?? absmax).View<float>(), m, inFeatures, outFeatures, blocksize, bias is null ? 0 : 1);
    }

    /// <summary>
    /// <paramref name="y"/> [m, out] = <paramref name="x"/> [m, in] · the int8 weight [out, in] ᵀ scaled by SCB/127 per row
    /// (+ <paramref name="bias"/>) without dequantizing it (<see cref="QuantKernels.FusedMatmulInt8"/>; m ≤ <see cref="QuantKernels.MaxRows"/>).
    /// </summary>
    public static void FusedMatmulInt8(Tensor y, Tensor x, Tensor codes, Tensor scb, Tensor? bias, int m, int inFeatures, int outFeatures)
    {
        var dev = DeviceOf("linear_8bit", y, x, codes, scb);
        if (m < 1 || m > QuantKernels.MaxRows)
            throw new KilnException("linear_8bit", $"linear_8bit: the fused device product takes 1 to {QuantKernels.MaxRows} rows, got {m}", KilnErrorKind.Shape);
        if (outFeatures == 0) return;
        dev.Launcher<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<sbyte>, ArrayView<float>, ArrayView<float>, int, int, int, int>>(KernelMethods.FusedMatmulInt8)
            (dev.Stream, new KernelConfig(outFeatures, dev.QuantGroupSize), y.View<float>(), x.View<float>(), codes.View<sbyte>(), scb.View<float>(),
             (bias ?? scb).View<float>(), m, inFeatures, outFeatures, bias is null ? 0 : 1);
    }

    /// <summary><paramref name="y"/> [rows, cols] (float32) = int8 <paramref name="codes"/> · SCB per row / 127.</summary>
    public static void DequantizeInt8Rows(Tensor y, Tensor codes, Tensor scb, int cols)
    {
        var dev = DeviceOf("dequantize_int8", y, codes, scb);
        if (y.Numel > int.MaxValue) throw new KilnException("dequantize_int8", $"dequantize_int8: {y.Numel} elements exceed one CUDA launch", KilnErrorKind.Device);
        if (y.Numel == 0) return;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<sbyte>, ArrayView<float>, int>>(KernelMethods.DequantizeInt8Rows)
            (dev.Stream, (int)y.Numel, y.View<float>(), codes.View<sbyte>(), scb.View<float>(), cols);
    }

    /// <summary>One fused SGD step of a contiguous float32 parameter.</summary>
    public static void Sgd(Tensor p, Tensor grad, Tensor? buf, SgdArgs args)
    {
        RequireFloat32("SGD", p);
        var dev = DeviceOf("SGD", p, grad);
        if (p.Numel == 0) return;
        args.HasBuffer = buf is null ? 0 : 1;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>>(KernelMethods.Sgd)
            (dev.Stream, (int)p.Numel, p.View<float>(), grad.View<float>(), (buf ?? p).View<float>(), args);
    }

    /// <summary>One fused Adam / AdamW step of a contiguous float32 parameter.</summary>
    public static void Adam(Tensor p, Tensor grad, Tensor m, Tensor v, Tensor? vmax, AdamArgs args)
    {
        RequireFloat32("Adam", p);
        var dev = DeviceOf("Adam", p, grad, m, v);
        if (p.Numel == 0) return;
        args.AmsGrad = vmax is null ? 0 : 1;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>>(KernelMethods.Adam)
            (dev.Stream, (int)p.Numel, p.View<float>(), grad.View<float>(), m.View<float>(), v.View<float>(), (vmax ?? v).View<float>(), args);
    }

    /// <summary>One fused RMSprop step of a contiguous float32 parameter.</summary>
    public static void RmsProp(Tensor p, Tensor grad, Tensor sq, Tensor? gAvg, Tensor? buf, RmsPropArgs args)
    {
        RequireFloat32("RMSprop", p);
        var dev = DeviceOf("RMSprop", p, grad, sq);
        if (p.Numel == 0) return;
        args.Centered = gAvg is null ? 0 : 1;
        args.HasBuffer = buf is null ? 0 : 1;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RmsPropArgs>>(KernelMethods.RmsProp)
            (dev.Stream, (int)p.Numel, p.View<float>(), grad.View<float>(), sq.View<float>(), (gAvg ?? sq).View<float>(), (buf ?? sq).View<float>(), args);
    }

    /// <summary>One fused Adagrad step of a contiguous float32 parameter.</summary>
    public static void Adagrad(Tensor p, Tensor grad, Tensor sum, AdagradArgs args)
    {
        RequireFloat32("Adagrad", p);
        var dev = DeviceOf("Adagrad", p, grad, sum);
        if (p.Numel == 0) return;
        dev.Launcher<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdagradArgs>>(KernelMethods.Adagrad)
            (dev.Stream, (int)p.Numel, p.View<float>(), grad.View<float>(), sum.View<float>(), args);
    }

    // ---- op codes -----------------------------------------------------------------------------------

    static (int Code, double P0, double P1) UnaryCodeOf<TOp>(TOp op) where TOp : struct, IUnaryOp => op switch
    {
        NegOp => (UnaryCode.Neg, 0, 0),
        AbsOp => (UnaryCode.Abs, 0, 0),
        ReluOp => (UnaryCode.Relu, 0, 0),
        ClampOp c => (UnaryCode.Clamp, c.HasMin ? c.Min : double.NaN, c.HasMax ? c.Max : double.NaN),
        GreaterMaskOp g => (UnaryCode.GreaterMask, g.Threshold, 0),
        FloatUnary<SoftplusF> f => (UnaryCode.Softplus, f.F.Beta, f.F.Threshold),
        FloatUnary<PowScalarF> f => (UnaryCode.PowScalar, f.F.Exponent, 0),
        SignOp => (UnaryCode.Sign, 0, 0),
        BitNotOp => (UnaryCode.BitNot, 0, 0),
        _ when TableUnaryCodes.CodeOf<TOp>() is var code && code >= 0 => (code, 0, 0),
        _ => throw new KilnException("cuda", $"the CUDA backend has no kernel for the elementwise op {typeof(TOp).Name} yet", KilnErrorKind.Device),
    };

    static (int Code, double P) BinaryCodeOf<TOp>(TOp op) where TOp : struct, IBinaryOp => op switch
    {
        AddOp => (BinaryCode.Add, 0),
        SubOp => (BinaryCode.Sub, 0),
        MulOp => (BinaryCode.Mul, 0),
        DivOp => (BinaryCode.Div, 0),
        MaximumOp => (BinaryCode.Maximum, 0),
        MinimumOp => (BinaryCode.Minimum, 0),
        PowOp => (BinaryCode.Pow, 0),
        KeepWhereGreaterOp k => (BinaryCode.KeepWhereGreater, k.Threshold),
        Atan2Op => (BinaryCode.Atan2, 0),
        RemainderOp => (BinaryCode.Remainder, 0),
        SwiGluOp => (BinaryCode.SwiGlu, 0),
        BitAndOp => (BinaryCode.BitAnd, 0),
        BitOrOp => (BinaryCode.BitOr, 0),
        BitXorOp => (BinaryCode.BitXor, 0),
        ShiftLeftOp => (BinaryCode.ShiftLeft, 0),
        ShiftRightOp => (BinaryCode.ShiftRight, 0),
        _ => throw new KilnException("cuda", $"the CUDA backend has no kernel for the elementwise op {typeof(TOp).Name} yet", KilnErrorKind.Device),
    };
}
