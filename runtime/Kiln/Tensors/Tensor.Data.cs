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
        if (Numel > Array.MaxLength)
            throw new KilnException("to_array", $"to_array: {Numel} elements of shape {Compiler.Shapes.ShapeText.Format(_shape)} do not fit one .NET array (at most {Array.MaxLength}); copy it in slices (Narrow)", KilnErrorKind.Shape);
        var arr = new T[(int)Numel];
        new ReadOnlySpan<T>(c.DataPointer, arr.Length).CopyTo(arr);
        return arr;
    }

    /// <summary>
    /// The elements in a multidimensional array of this tensor's shape (<c>float[,]</c> for a matrix; PyTorch's
    /// <c>tolist()</c> in C# form); a 0-dim tensor gives a one-element array. <see cref="From(Array)"/> reads it back.
    /// </summary>
    public Array ToNDArray<T>() where T : unmanaged
    {
        var flat = ToArray<T>();
        if (Dim == 0) return flat;
        var result = Array.CreateInstance(typeof(T), _shape);
        ref byte start = ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(result);
        var target = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.CompilerServices.Unsafe.As<byte, T>(ref start), flat.Length);
        flat.CopyTo(target);
        return result;
    }

    /// <summary>A matrix's elements as <c>T[rows, columns]</c>.</summary>
    public T[,] ToArray2D<T>() where T : unmanaged =>
        Dim == 2 ? (T[,])ToNDArray<T>() : throw new KilnException("to_array", $"to_array: ToArray2D needs a 2-D tensor, got shape {Compiler.Shapes.ShapeText.Format(_shape)}", KilnErrorKind.Shape);

    /// <summary>A 3-D tensor's elements as <c>T[d0, d1, d2]</c>.</summary>
    public T[,,] ToArray3D<T>() where T : unmanaged =>
        Dim == 3 ? (T[,,])ToNDArray<T>() : throw new KilnException("to_array", $"to_array: ToArray3D needs a 3-D tensor, got shape {Compiler.Shapes.ShapeText.Format(_shape)}", KilnErrorKind.Shape);

    /// <summary>The value of a one-element tensor (<c>item()</c>).</summary>
    public T Item<T>() where T : unmanaged
    {
        if (Numel != 1)
            throw new KilnException("item", $"item: a Tensor with {Numel} elements cannot be converted to a scalar (shape {Compiler.Shapes.ShapeText.Format(_shape)})", KilnErrorKind.Shape);
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
