using System;
using System.Collections.Generic;
using Kiln.Compiler.Shapes;
using Kiln.Memory;

namespace Kiln;

/// <summary>
/// An n-dimensional array with a shape, strides into shared storage, a <see cref="DType"/> and a
/// <see cref="Device"/> — Kiln's <c>torch.Tensor</c>. Views share storage; ops follow PyTorch's
/// broadcasting and type promotion.
/// </summary>
/// <remarks>
/// Memory is released deterministically by <see cref="Dispose"/> or a <see cref="Scope"/>; a tensor
/// that is simply dropped is reclaimed by a finalizer on its storage.
/// </remarks>
public sealed unsafe partial class Tensor : IDisposable
{
    // Not readonly: SetData rebinds a parameter to new data (PyTorch's `param.data = t`).
    Storage _storage;
    int[] _shape;
    long _numel; // the shape's product, kept: Numel is read by nearly every op
    long[] _strides;
    long _offset;
    int _disposed;

    internal Tensor(Storage storage, int[] shape, long[] strides, long offset, DType dtype)
    {
        _numel = CheckLayout(storage, shape, strides, offset, dtype);
        _storage = storage;
        _shape = shape;
        _strides = strides;
        _offset = offset;
        DType = dtype;
        storage.Retain();
        TensorScope.Register(this);
    }

    /// <summary>A new contiguous tensor; <paramref name="zero"/> clears its memory.</summary>
    internal static Tensor Allocate(int[] shape, DType dtype, bool zero = false) => Allocate(shape, dtype, zero, Device.Cpu);

    /// <summary>A new contiguous tensor on <paramref name="device"/>; <paramref name="zero"/> clears its memory.</summary>
    internal static Tensor Allocate(int[] shape, DType dtype, bool zero, Device device)
    {
        foreach (int d in shape)
            if (d < 0) throw new KilnException("empty", $"empty: trying to create tensor with negative dimension {d}: {ShapeText.Format(shape)}", KilnErrorKind.Shape);
        long n = ShapeRules.Numel(shape);
        if (n > long.MaxValue / dtype.SizeOf())
            throw new KilnException("empty", $"empty: storage size calculation overflowed for sizes {ShapeText.Format(shape)} of {dtype}", KilnErrorKind.DType);
        var storage = Storage.Create(n * dtype.SizeOf(), zero, device);
        return new Tensor(storage, shape, ContiguousStrides(shape), 0, dtype);
    }

    /// <summary>
    /// The safety net under every view: the elements a layout can reach must lie inside its storage. Each op checks its
    /// own arguments first (with its own message); this catches what an overflowing computation would let through.
    /// Returns the element count.
    /// </summary>
    static long CheckLayout(Storage storage, int[] shape, long[] strides, long offset, DType dtype)
    {
        if (shape.Length != strides.Length)
            throw new KilnException("as_strided", $"as_strided: {shape.Length} sizes but {strides.Length} strides", KilnErrorKind.Shape);
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] < 0) throw new KilnException("as_strided", $"as_strided: negative size {shape[i]} in {ShapeText.Format(shape)}", KilnErrorKind.Shape);
        long numel = ShapeRules.Numel(shape); // throws when the product overflows
        if (offset < 0) throw new KilnException("as_strided", $"as_strided: negative storage offset {offset}");
        if (numel == 0) return 0;
        long capacity = storage.ByteLength / dtype.SizeOf();
        long lo = offset, hi = offset;
        try
        {
            for (int i = 0; i < shape.Length; i++)
            {
                long reach = checked((shape[i] - 1L) * strides[i]);
                if (reach >= 0) hi = checked(hi + reach); else lo = checked(lo + reach);
            }
        }
        catch (OverflowException)
        {
            throw new KilnException("as_strided", $"as_strided: sizes {ShapeText.Format(shape)} with strides [{string.Join(", ", strides)}] and offset {offset} overflow the storage's addressing", KilnErrorKind.Shape);
        }
        if (lo < 0 || hi >= capacity)
            throw new KilnException("as_strided", $"as_strided: sizes {ShapeText.Format(shape)} with strides [{string.Join(", ", strides)}] and offset {offset} reach element {(lo < 0 ? lo : hi)}, outside the storage of {capacity} elements", KilnErrorKind.Shape);
        return numel;
    }

    internal static long[] ContiguousStrides(int[] shape)
    {
        var s = new long[shape.Length];
        long acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= Math.Max(shape[i], 1); }
        return s;
    }

    /// <summary>A view of the same storage with another shape, strides and offset.</summary>
    internal Tensor AsStrided(int[] shape, long[] strides, long offset) => new(_storage, shape, strides, offset, DType);

    /// <summary>The element type.</summary>
    public DType DType { get; private set; }

    /// <summary>The device holding the data.</summary>
    public Device Device => _storage.Device;

    /// <summary>The sizes of each dimension (<c>tensor.shape</c>).</summary>
    public Kiln.Size Shape => Kiln.Size.Wrap(_shape);

    /// <summary>Element strides of each dimension.</summary>
    public IReadOnlyList<long> Strides => _strides;

    /// <summary>Offset of the first element in the storage, in elements.</summary>
    public long StorageOffset => _offset;

    /// <summary>The storage this tensor views.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public Storage Storage => _storage;

    /// <summary>Number of dimensions.</summary>
    public int Dim => _shape.Length;

    /// <summary>Number of elements.</summary>
    public long Numel => _numel;

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => _shape[ShapeRules.NormalizeDim("size", dim, _shape.Length)];

    /// <summary>Stride of dimension <paramref name="dim"/>.</summary>
    public long Stride(int dim) => _strides[ShapeRules.NormalizeDim("stride", dim, _shape.Length)];

    internal int[] ShapeArray => _shape;
    internal long[] StrideArray => _strides;

    /// <summary>True when elements are laid out row-major without gaps (size-1 dims ignored).</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int i = _shape.Length - 1; i >= 0; i--)
            {
                if (_shape[i] == 1) continue;
                if (_shape[i] == 0) return true;
                if (_strides[i] != expected) return false;
                expected *= _shape[i];
            }
            return true;
        }
    }

    /// <summary>Pointer to the first element (unsafe: valid while the tensor is alive).</summary>
    internal byte* DataPointer => _storage.Pointer + _offset * DType.SizeOf();

    /// <summary>
    /// The elements of a contiguous tensor as a span over its memory (no copy, like <c>tensor.numpy()</c>): writes change
    /// the tensor. <typeparamref name="T"/> must be the element type (float for Float32, ...).
    /// </summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        if (IsCuda) throw new KilnException("as_span", $"as_span: the tensor lives on {Device}; a span of host memory needs a CPU tensor (.Cpu())", KilnErrorKind.Device);
        if (!IsContiguous) throw new KilnException("as_span", $"as_span: the tensor of shape {Compiler.Shapes.ShapeText.Format(_shape)} is not contiguous; call Contiguous() first", KilnErrorKind.Shape);
        if (sizeof(T) != DType.SizeOf() || !ElementTypeMatches<T>())
            throw new KilnException("as_span", $"as_span: a {DType} tensor cannot be viewed as {typeof(T).Name}", KilnErrorKind.DType);
        return new Span<T>(DataPointer, checked((int)Numel));
    }

    bool ElementTypeMatches<T>() => DType switch
    {
        DType.Float32 => typeof(T) == typeof(float),
        DType.Float64 => typeof(T) == typeof(double),
        DType.Int64 => typeof(T) == typeof(long),
        DType.Int32 => typeof(T) == typeof(int),
        DType.Int8 => typeof(T) == typeof(sbyte),
        DType.UInt8 => typeof(T) == typeof(byte),
        DType.Bool => typeof(T) == typeof(bool),
        _ => typeof(T) == typeof(ushort) || typeof(T) == typeof(Half),
    };

    internal T* Ptr<T>() where T : unmanaged => (T*)DataPointer;

    /// <summary>True when the data lives on a CUDA device.</summary>
    public bool IsCuda => _storage.Gpu is not null;

    /// <summary>The kernels of the device this tensor lives on.</summary>
    internal Backends.IBackend Backend => _storage.Gpu is null ? Backends.CpuBackend.Instance : Backends.CudaBackend.Instance;

    /// <summary>
    /// The device elements of a CUDA tensor from its first element to the end of the storage (strides index into it).
    /// </summary>
    internal ILGPU.ArrayView<T> View<T>() where T : unmanaged
    {
        // The offset is in this tensor's elements; T may be another width (bytes for conversions and copies).
        var bytes = _storage.DeviceBytes;
        long start = Math.Min(_offset * DType.SizeOf(), bytes.Length);
        return bytes.SubView(start, bytes.Length - start).Cast<T>();
    }

    /// <summary>
    /// Rebinds this tensor object to <paramref name="src"/>'s data, shape and dtype (PyTorch's <c>param.data = src</c>):
    /// modules and optimizers holding this object see the new data. Autograd history is not touched.
    /// </summary>
    internal void SetData(Tensor src)
    {
        if (ReferenceEquals(src, this)) return;
        src._storage.Retain();
        var old = _storage;
        _storage = src._storage;
        _shape = (int[])src._shape.Clone();
        _numel = src._numel;
        _strides = (long[])src._strides.Clone();
        _offset = src._offset;
        DType = src.DType;
        if (_storageReleased == 0) old.Release();
        _disposed = 0;
        _storageReleased = 0;
    }

    /// <summary>Marks an in-place write for autograd's version checks.</summary>
    /// <summary>Counts in-place writes to this tensor's storage (<c>tensor._version</c>): caches derived from a tensor compare it.</summary>
    public int Version => _storage.Version;

    internal void BumpVersion() => System.Threading.Interlocked.Increment(ref _storage.Version);

    /// <summary>Releases this tensor's reference to its storage; memory returns when the last view is disposed.</summary>
    public void Dispose()
    {
        if (System.Threading.Interlocked.Exchange(ref _disposed, 1) == 0 && System.Threading.Volatile.Read(ref _pins) == 0) ReleaseStorage();
    }

    // Autograd pins the tensors a node saved: disposing one while a graph still needs it (the natural
    // `using var t = ...` in layer code) defers the release until the node frees what it saved.
    int _pins;
    int _storageReleased;

    internal void Pin() => System.Threading.Interlocked.Increment(ref _pins);

    internal void Unpin()
    {
        if (System.Threading.Interlocked.Decrement(ref _pins) == 0 && System.Threading.Volatile.Read(ref _disposed) != 0) ReleaseStorage();
    }

    void ReleaseStorage()
    {
        if (System.Threading.Interlocked.Exchange(ref _storageReleased, 1) == 0) _storage.Release();
    }

    /// <summary>The scope that disposes this tensor (where it was created, or where a scope kept it), or null.</summary>
    internal TensorScope? OwnerScope { get; set; }

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed => _disposed != 0;

    /// <summary>
    /// Opens a scope: every tensor created on this thread until the scope is disposed is disposed with it,
    /// except those passed to <see cref="TensorScope.Keep"/>.
    /// </summary>
    public static TensorScope Scope() => new();
}
