using System;
using System.Runtime.InteropServices;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>A 0-dim tensor from a C# floating number; it promotes like a Python float (int tensor + 2.5 is float32).</summary>
    public static Tensor Scalar(double value)
    {
        var t = new Tensor(new Memory.Storage(8, false), Array.Empty<int>(), Array.Empty<long>(), 0, DType.Float64) { IsWrappedNumber = true };
        *(double*)t.DataPointer = value;
        return t;
    }

    /// <summary>A 0-dim tensor from a C# integer; it promotes like a Python int (int32 tensor + 2 stays int32).</summary>
    public static Tensor Scalar(long value)
    {
        var t = new Tensor(new Memory.Storage(8, false), Array.Empty<int>(), Array.Empty<long>(), 0, DType.Int64) { IsWrappedNumber = true };
        *(long*)t.DataPointer = value;
        return t;
    }

    /// <summary>Creates a tensor from a flat array and a shape (the array's length must match).</summary>
    public static Tensor From<T>(T[] data, params int[] shape) where T : unmanaged
    {
        if (shape.Length == 0 && data.Length != 1) shape = new[] { data.Length };
        long n = ShapeRules.Numel(shape);
        if (n != data.Length)
            throw new KilnException("tensor", $"tensor: {data.Length} values cannot fill shape {ShapeText.Format(shape)} ({n} elements)", KilnErrorKind.Shape);
        var dtype = ElementIO.DTypeOf(typeof(T));
        var t = Allocate((int[])shape.Clone(), dtype);
        MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(new Span<byte>(t.DataPointer, checked((int)(n * dtype.SizeOf()))));
        return t;
    }

    /// <summary>
    /// A tensor of <paramref name="dtype"/> and <paramref name="shape"/> from its raw little-endian element bytes (as
    /// <c>torch.frombuffer</c>, copied): how file readers (ONNX, GGUF, ...) hand data of any dtype to Kiln.
    /// </summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> bytes, int[] shape, DType dtype)
    {
        long n = ShapeRules.Numel(shape);
        if (bytes.Length != n * dtype.SizeOf())
            throw new KilnException("frombuffer", $"frombuffer: {bytes.Length} bytes cannot fill shape {ShapeText.Format(shape)} of {dtype.Name()} ({n * dtype.SizeOf()} bytes)", KilnErrorKind.Shape);
        var t = Allocate((int[])shape.Clone(), dtype);
        bytes.CopyTo(new Span<byte>(t.DataPointer, bytes.Length));
        return t;
    }

    /// <summary>Creates a tensor from an array of any rank (<c>float[,]</c>, <c>long[,,]</c>, ...) keeping its shape.</summary>
    public static Tensor From(Array data)
    {
        var et = data.GetType().GetElementType()!;
        var dtype = ElementIO.DTypeOf(et);
        var shape = new int[data.Rank];
        for (int i = 0; i < data.Rank; i++) shape[i] = data.GetLength(i);
        var t = Allocate(shape, dtype);
        var bytes = checked((int)(data.LongLength * dtype.SizeOf()));
        var handle = GCHandle.Alloc(data, GCHandleType.Pinned);
        try { Buffer.MemoryCopy((void*)handle.AddrOfPinnedObject(), t.DataPointer, bytes, bytes); }
        finally { handle.Free(); }
        return t;
    }

    /// <summary>A 1-D tensor of the values (<c>torch.tensor([...])</c>).</summary>
    public static Tensor From(params float[] values) => From(values, values.Length);

    /// <summary>Uninitialised tensor (<c>torch.empty</c>).</summary>
    public static Tensor Empty(int[] shape, DType dtype = DType.Float32, Device? device = null) => Allocate((int[])shape.Clone(), dtype, false, device ?? Device.Cpu);

    /// <summary>Zeros (<c>torch.zeros</c>).</summary>
    public static Tensor Zeros(int[] shape, DType dtype = DType.Float32, Device? device = null) => Allocate((int[])shape.Clone(), dtype, true, device ?? Device.Cpu);

    /// <summary>Zeros of the given sizes.</summary>
    public static Tensor Zeros(params int[] shape) => Zeros(shape, DType.Float32);

    /// <summary>Ones (<c>torch.ones</c>).</summary>
    public static Tensor Ones(int[] shape, DType dtype = DType.Float32, Device? device = null) => Full(shape, 1, dtype, device);

    /// <summary>Ones of the given sizes.</summary>
    public static Tensor Ones(params int[] shape) => Ones(shape, DType.Float32);

    /// <summary>A tensor filled with <paramref name="value"/> (<c>torch.full</c>).</summary>
    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32, Device? device = null)
    {
        if (device is { Type: DeviceType.Cuda } d)
        {
            var g = Allocate((int[])shape.Clone(), dtype, false, d);
            Gpu.GpuOps.Fill(g, value);
            return g;
        }
        var t = Allocate((int[])shape.Clone(), dtype);
        long n = t.Numel;
        if (n == 0) return t;
        int size = dtype.SizeOf();
        byte* p = t.DataPointer;
        ElementIO.Write(p, dtype, value);
        switch (size)
        {
            case 1: new Span<byte>(p, (int)n).Fill(*p); break;
            case 2: new Span<ushort>(p, (int)n).Fill(*(ushort*)p); break;
            case 4: new Span<uint>(p, (int)n).Fill(*(uint*)p); break;
            default: new Span<ulong>(p, (int)n).Fill(*(ulong*)p); break;
        }
        return t;
    }

    /// <summary>Same shape, uninitialised.</summary>
    public static Tensor EmptyLike(Tensor t, DType? dtype = null) => Empty(t._shape, dtype ?? t.DType, t.Device);
    /// <summary>Same shape, zeros.</summary>
    public static Tensor ZerosLike(Tensor t, DType? dtype = null) => Zeros(t._shape, dtype ?? t.DType, t.Device);
    /// <summary>Same shape, ones.</summary>
    public static Tensor OnesLike(Tensor t, DType? dtype = null) => Ones(t._shape, dtype ?? t.DType, t.Device);
    /// <summary>Same shape, filled.</summary>
    public static Tensor FullLike(Tensor t, double value, DType? dtype = null) => Full(t._shape, value, dtype ?? t.DType, t.Device);
    /// <summary>Same shape, uniform [0, 1).</summary>
    public static Tensor RandLike(Tensor t, Generator? g = null) => OnDeviceOf(t, Rand(t._shape, t.DType, g));
    /// <summary>Same shape, standard normal.</summary>
    public static Tensor RandnLike(Tensor t, Generator? g = null) => OnDeviceOf(t, Randn(t._shape, t.DType, g));

    /// <summary>A host-drawn tensor moved to <paramref name="like"/>'s device (the generator's stream is the host's on any device).</summary>
    static Tensor OnDeviceOf(Tensor like, Tensor drawn)
    {
        if (!like.IsCuda) return drawn;
        using (drawn) return drawn.To(like.Device);
    }

    /// <summary>Integers [start, end) by step, int64 (<c>torch.arange</c> with integer arguments).</summary>
    public static Tensor Arange(long start, long end, long step = 1)
    {
        if (step == 0) throw new KilnException("arange", "arange: step must be nonzero");
        if (step > 0 ? end < start : end > start)
            throw new KilnException("arange", $"arange: upper bound and larger bound inconsistent with step sign (start {start}, end {end}, step {step})");
        // In 128 bits: end - start overflows 64 bits for ranges such as [long.MinValue, long.MaxValue).
        Int128 count = ((Int128)end - start + step - Math.Sign(step)) / step;
        if (count > int.MaxValue)
            throw new KilnException("arange", $"arange: invalid size, possible overflow? ({count} elements from {start} to {end} by {step}; a dimension holds at most {int.MaxValue})", KilnErrorKind.Shape);
        long n = (long)count;
        var t = Allocate(new[] { (int)n }, DType.Int64);
        long* p = t.Ptr<long>();
        for (long i = 0; i < n; i++) p[i] = start + i * step;
        return t;
    }

    // Python's spelling of non-finite numbers in messages ("nan", "inf"), as PyTorch users read them.
    static string PyNumber(double v) => double.IsNaN(v) ? "nan" : double.IsInfinity(v) ? (v > 0 ? "inf" : "-inf") : v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Integers [0, end), int64.</summary>
    public static Tensor Arange(long end) => Arange(0, end);

    /// <summary>Floating range [start, end) by step (<c>torch.arange</c> with float arguments).</summary>
    public static Tensor Arange(double start, double end, double step, DType dtype = DType.Float32)
    {
        if (!double.IsFinite(start) || !double.IsFinite(end)) throw new KilnException("arange", $"arange: unsupported range: {PyNumber(start)} -> {PyNumber(end)}", KilnErrorKind.Unsupported);
        if (double.IsNaN(step) || step == 0) throw new KilnException("arange", $"arange: step must be nonzero and a number, got {step}");
        double length = Math.Ceiling((end - start) / step);
        if (length < 0) throw new KilnException("arange", $"arange: upper bound and larger bound inconsistent with step sign (start {start}, end {end}, step {step})");
        if (!(length <= int.MaxValue))
            throw new KilnException("arange", $"arange: invalid size, possible overflow? ({length} elements from {start} to {end} by {step}; a dimension holds at most {int.MaxValue})", KilnErrorKind.Shape);
        long n = (long)length;
        var t = Allocate(new[] { (int)n }, dtype);
        int size = dtype.SizeOf();
        for (long i = 0; i < n; i++) ElementIO.Write(t.DataPointer + i * size, dtype, start + i * step);
        return t;
    }

    /// <summary>
    /// <paramref name="steps"/> values base^p for p evenly spaced from <paramref name="start"/> to <paramref name="end"/>
    /// inclusive (<c>torch.logspace</c>).
    /// </summary>
    public static Tensor Logspace(double start, double end, int steps, double @base = 10, DType dtype = DType.Float32)
    {
        if (steps < 0) throw new KilnException("logspace", $"logspace: number of steps must be non-negative, got {steps}");
        var t = Allocate(new[] { steps }, dtype);
        int size = dtype.SizeOf();
        double step = steps > 1 ? (end - start) / (steps - 1) : 0;
        int half = steps / 2;   // linspace's symmetric fill, as PyTorch
        for (int i = 0; i < steps; i++)
        {
            double p = steps == 1 ? start : i < half ? start + step * i : end - step * (steps - 1 - i);
            ElementIO.Write(t.DataPointer + (long)i * size, dtype, Math.Pow(@base, p));
        }
        return t;
    }

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive (<c>torch.linspace</c>).</summary>
    public static Tensor Linspace(double start, double end, int steps, DType dtype = DType.Float32)
    {
        if (steps < 0) throw new KilnException("linspace", $"linspace: number of steps must be non-negative, got {steps}");
        var t = Allocate(new[] { steps }, dtype);
        int size = dtype.SizeOf();
        double step = steps > 1 ? (end - start) / (steps - 1) : 0;
        // PyTorch fills the second half from the end for symmetry; do the same so values match bit for bit.
        int half = steps / 2;
        for (int i = 0; i < steps; i++)
        {
            double v = steps == 1 ? start : i < half ? start + step * i : end - step * (steps - 1 - i);
            ElementIO.Write(t.DataPointer + (long)i * size, dtype, v);
        }
        return t;
    }

    /// <summary>Identity matrix n×m (<c>torch.eye</c>).</summary>
    public static Tensor Eye(int n, int? m = null, DType dtype = DType.Float32)
    {
        int cols = m ?? n;
        var t = Zeros(new[] { n, cols }, dtype);
        int size = dtype.SizeOf();
        for (int i = 0; i < Math.Min(n, cols); i++) ElementIO.Write(t.DataPointer + ((long)i * cols + i) * size, dtype, 1);
        return t;
    }
}
