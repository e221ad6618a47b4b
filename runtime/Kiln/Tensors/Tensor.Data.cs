using System;
using System.Runtime.InteropServices;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>Copies the elements, row-major, into a new array of <typeparamref name="T"/> (converting dtype if needed).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (IsCuda) { using var host = ToHost(); return host.ToArray<T>(); }
        var dtype = ElementIO.DTypeOf(typeof(T));
        using var c = dtype == DType && IsContiguous ? AsStrided(_shape, _strides, _offset) : Kernels.CopyKernel.Convert(this, dtype);
        var arr = new T[checked((int)Numel)];
        new ReadOnlySpan<T>(c.DataPointer, arr.Length).CopyTo(arr);
        return arr;
    }

    /// <summary>The value of a one-element tensor (<c>item()</c>).</summary>
    public T Item<T>() where T : unmanaged
    {
        if (Numel != 1)
            throw new KilnException("item", $"item: a Tensor with {Numel} elements cannot be converted to a scalar (shape {Compiler.Shapes.ShapeText.Format(_shape)})");
        if (IsCuda) { using var host = ToHost(); return host.Item<T>(); }
        var want = ElementIO.DTypeOf(typeof(T));
        var buf = stackalloc byte[8];
        if (want.IsInteger() || want == DType.Bool)
            ElementIO.WriteLong(buf, want, DType.IsFloatingPoint() ? (long)ElementIO.ReadDouble(DataPointer, DType) : ElementIO.ReadLong(DataPointer, DType));
        else
            ElementIO.Write(buf, want, ElementIO.ReadDouble(DataPointer, DType));
        return *(T*)buf;
    }

    /// <summary>An unrecorded host copy of a CUDA tensor's data (the host waits for the device here).</summary>
    internal Tensor ToHost()
    {
        var r = Allocate((int[])_shape.Clone(), DType);
        Kernels.CopyKernel.Copy(r, this);
        return r;
    }

    /// <summary>Element at a multi-index as double (for tests and printing; not a hot path).</summary>
    internal double GetDouble(ReadOnlySpan<int> index)
    {
        if (IsCuda) { using var host = ToHost(); return host.GetDouble(index); }
        long off = 0;
        for (int i = 0; i < index.Length; i++) off += index[i] * _strides[i];
        return ElementIO.ReadDouble(_storage.Pointer + (_offset + off) * DType.SizeOf(), DType);
    }
}

public sealed partial class Tensor
{
    /// <summary>PyTorch-style text, e.g. <c>tensor([[0.1000, 0.2000]])</c>; large tensors are elided.</summary>
    public override string ToString() => TensorFormatter.Format(this);
}
