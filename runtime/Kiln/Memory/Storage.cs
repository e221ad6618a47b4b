using System;
using System.Threading;
using ILGPU;
using ILGPU.Runtime;
using Kiln.Gpu;

namespace Kiln.Memory;

/// <summary>
/// A block of element memory shared by a tensor and all its views. Reference-counted by the tensors
/// that use it (each <see cref="Tensor.Dispose"/> releases one reference); a finalizer frees it when the
/// views were dropped without disposing. A CUDA storage holds a block of device memory from that device's caching allocator.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed unsafe class Storage
{
    nint _ptr;
    readonly long _block;
    readonly MemoryPool? _pool;
    int _refs;
    readonly GpuDevice? _gpu;
    MemoryBuffer1D<byte, Stride1D.Dense>? _buffer;

    /// <summary>Size in bytes as requested.</summary>
    public long ByteLength { get; }

    /// <summary>The device holding the memory.</summary>
    public Device Device { get; }

    /// <summary>Bumped by every in-place write; autograd compares it with the version it saved.</summary>
    public int Version;

    internal Storage(long bytes, bool zero)
    {
        ByteLength = bytes;
        Device = Device.Cpu;
        _pool = MemoryPool.Current;
        _ptr = _pool is { } pool ? pool.Take(Math.Max(bytes, 1), out _block) : CachingAllocator.Allocate(Math.Max(bytes, 1), out _block);
        if (zero) ClearBytes((byte*)_ptr, bytes);
    }

    Storage(long bytes, bool zero, GpuDevice gpu)
    {
        ByteLength = bytes;
        Device = gpu.Device;
        _gpu = gpu;
        _buffer = gpu.Allocator.Allocate(Math.Max(bytes, 1), gpu.Device.ToString());
        if (zero && bytes > 0) DeviceBytes.MemSetToZero(gpu.Stream);
    }

    /// <summary>Memory for <paramref name="bytes"/> on <paramref name="device"/>.</summary>
    internal static Storage Create(long bytes, bool zero, Device device) =>
        device.Type == DeviceType.Cpu ? new Storage(bytes, zero) : new Storage(bytes, zero, GpuDevice.For("empty", device));

    /// <summary>The device object of a CUDA storage (null for host memory).</summary>
    internal GpuDevice? Gpu => _gpu;

    /// <summary>The device memory of a CUDA storage, exactly <see cref="ByteLength"/> long; throws once freed.</summary>
    internal ArrayView<byte> DeviceBytes
    {
        get
        {
            var b = _buffer ?? throw new ObjectDisposedException("Tensor", Disposed);
            return ((ArrayView<byte>)b.View).SubView(0, Math.Max(ByteLength, 1));
        }
    }

    static void ClearBytes(byte* p, long n)
    {
        while (n > 0)
        {
            int chunk = (int)Math.Min(n, int.MaxValue);
            new Span<byte>(p, chunk).Clear();
            p += chunk; n -= chunk;
        }
    }

    // The usual cause is a Tensor.Scope() that ended: say how to keep a tensor past it.
    const string Disposed = "the tensor's memory was released: it was disposed, or created inside a Tensor.Scope() that has ended. "
        + "To use a tensor after its scope, keep it (scope.Keep(t)), clone it before the scope ends, or create it outside the scope";

    /// <summary>Start of the memory; throws once freed.</summary>
    public byte* Pointer
    {
        get
        {
            nint p = _ptr;
            if (_gpu is not null)
                throw new KilnException("cuda", $"this operation has no CUDA kernel yet: its input lives on {Device}; move it with .Cpu() first (README lists the ops the CUDA backend runs)", KilnErrorKind.Device);
            if (p == 0) throw new ObjectDisposedException("Tensor", Disposed);
            return (byte*)p;
        }
    }

    /// <summary>The private pool the block came from, or null (the shared cache).</summary>
    internal MemoryPool? Pool => _pool;

    /// <summary>True once the memory went back to the allocator.</summary>
    public bool IsFreed => _gpu is null ? _ptr == 0 : _buffer is null;

    internal void Retain() => Interlocked.Increment(ref _refs);

    /// <summary>Tensor objects currently holding this storage.</summary>
    internal int RefCount => Volatile.Read(ref _refs);

    internal void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            FreeNow();
            GC.SuppressFinalize(this);
        }
    }

    void FreeNow()
    {
        if (_gpu is not null)
        {
            var b = Interlocked.Exchange(ref _buffer, null);
            if (b is not null) _gpu.Allocator.Free(b);
            return;
        }
        nint p = Interlocked.Exchange(ref _ptr, 0);
        if (p == 0) return;
        if (_pool is { } pool) pool.Return(p, _block);
        else CachingAllocator.Free(p, _block);
    }

    /// <summary>Safety net for tensors that were never disposed.</summary>
    ~Storage() => FreeNow();
}
