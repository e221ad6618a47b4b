using System;
using System.Collections.Generic;
using ILGPU;
using ILGPU.Runtime;

namespace Kiln.Gpu;

/// <summary>
/// The caching allocator of one device (as PyTorch's CUDA caching allocator): freed blocks go to a free list per rounded
/// size and are handed out again, so steady-state training makes no driver allocation. One stream per device orders every
/// use, so a block freed by the host can be reused at once: later kernels run after the earlier ones that read it.
/// </summary>
internal sealed class DeviceAllocator : IDisposable
{
    readonly Accelerator _accelerator;
    readonly Dictionary<long, Stack<MemoryBuffer1D<byte, Stride1D.Dense>>> _free = new();
    readonly object _lock = new();
    readonly HashSet<MemoryBuffer1D<byte, Stride1D.Dense>> _all = new();

    public DeviceAllocator(Accelerator accelerator) => _accelerator = accelerator;

    /// <summary>Driver allocations made so far.</summary>
    public long DriverAllocations { get; private set; }
    /// <summary>Requests served from the cache.</summary>
    public long CacheHits { get; private set; }
    /// <summary>Bytes held from the driver (in use plus cached).</summary>
    public long ReservedBytes { get; private set; }
    /// <summary>Bytes of blocks currently handed out.</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>Small sizes round to a power of two (at least 512 B), large ones to whole 2 MiB.</summary>
    public static long RoundSize(long bytes)
    {
        bytes = Math.Max(bytes, 1);
        if (bytes <= 1 << 20)
        {
            long s = 512;
            while (s < bytes) s <<= 1;
            return s;
        }
        const long Big = 2 << 20;
        return (bytes + Big - 1) / Big * Big;
    }

    /// <summary>A block of at least <paramref name="bytes"/>; out of memory empties the cache once and retries.</summary>
    public MemoryBuffer1D<byte, Stride1D.Dense> Allocate(long bytes, string device)
    {
        long size = RoundSize(bytes);
        lock (_lock)
        {
            AllocatedBytes += size;
            if (_free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                CacheHits++;
                return stack.Pop();
            }
            try
            {
                return New(size);
            }
            catch (Exception e) when (e is AcceleratorException or OutOfMemoryException or InvalidOperationException)
            {
                ReleaseCached();
                try
                {
                    return New(size);
                }
                catch (Exception e2) when (e2 is AcceleratorException or OutOfMemoryException or InvalidOperationException)
                {
                    AllocatedBytes -= size;
                    throw new KilnException("cuda", $"cuda: out of memory allocating {bytes} bytes on {device} ({ReservedBytes} bytes reserved by Kiln, {AllocatedBytes} in use): {e2.Message}", KilnErrorKind.Device);
                }
            }
        }
    }

    MemoryBuffer1D<byte, Stride1D.Dense> New(long size)
    {
        var buffer = _accelerator.Allocate1D<byte>(size);
        // The cache keeps every block reachable: a storage finalized together with its buffer must be able to return it,
        // so ILGPU's own finalizers (buffer and the memory under it) must never run behind the cache's back.
        _all.Add(buffer);
        DriverAllocations++;
        ReservedBytes += size;
        return buffer;
    }

    /// <summary>Returns a block to the cache.</summary>
    public void Free(MemoryBuffer1D<byte, Stride1D.Dense> buffer)
    {
        lock (_lock)
        {
            if (_disposed) { _all.Remove(buffer); buffer.Dispose(); return; }
            AllocatedBytes -= buffer.Length;
            if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new();
            stack.Push(buffer);
        }
    }

    /// <summary>Gives every cached block back to the driver (<c>torch.cuda.empty_cache()</c>).</summary>
    public void ReleaseCached()
    {
        lock (_lock)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0)
                {
                    var b = stack.Pop();
                    ReservedBytes -= b.Length;
                    _all.Remove(b);
                    b.Dispose();
                }
        }
    }

    bool _disposed;

    public void Dispose()
    {
        lock (_lock)
        {
            ReleaseCached();
            _disposed = true;
        }
    }
}
