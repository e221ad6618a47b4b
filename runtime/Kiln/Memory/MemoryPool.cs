using System;
using System.Threading;

namespace Kiln.Memory;

/// <summary>
/// Blocks reserved for one owner (a compiled model in <c>CompileMode.ReduceOverhead</c>): tensors created while the pool is
/// in use on a thread (<see cref="Use"/>) take its blocks, and their blocks come back to it when they are freed. The first
/// call fills it; later calls of the same shapes run on exactly those blocks — none taken from the shared cache or the OS
/// — and the memory stays reserved between calls, as a CUDA-graph memory pool does. Disposing it (or its finalizer)
/// hands the free blocks to the shared cache.
/// </summary>
public sealed class MemoryPool : IDisposable
{
    [ThreadStatic] static MemoryPool? _current;
    readonly BlockStacks _free = new();
    long _reserved, _reused, _added;
    volatile bool _disposed;

    /// <summary>The pool tensors created on this thread take their memory from, or null.</summary>
    internal static MemoryPool? Current => _current;

    /// <summary>Bytes of blocks this pool owns (in use or free).</summary>
    public long ReservedBytes => Interlocked.Read(ref _reserved);
    /// <summary>Blocks handed out again from the pool.</summary>
    public long Reuses => Interlocked.Read(ref _reused);
    /// <summary>Blocks the pool had to add (the first call's, or a new shape's).</summary>
    public long Additions => Interlocked.Read(ref _added);

    /// <summary>Makes <paramref name="pool"/> the current thread's pool until the scope ends (null: a scope that changes nothing).</summary>
    public static IDisposable Use(MemoryPool? pool)
    {
        if (pool is null) return Scope.None;
        var previous = _current;
        _current = pool;
        return new Scope(previous);
    }

    /// <summary>
    /// <paramref name="tensor"/> as a tensor outside <paramref name="pool"/>: a copy in shared memory when it lives in the
    /// pool (the pool's reference is released), else itself. Compiled models hand their outputs and gradients out through
    /// it, so only their temporaries stay in the pool and a returned tensor never pins a reserved block.
    /// </summary>
    public static Tensor? Outside(MemoryPool? pool, Tensor? tensor)
    {
        if (pool is null || tensor is null || tensor.Storage.Pool != pool) return tensor;
        var previous = _current;
        _current = null;
        try
        {
            Tensor copy;
            using (Autograd.NoGrad()) copy = tensor.Clone();
            tensor.Dispose();
            return copy;
        }
        finally { _current = previous; }
    }

    internal nint Take(long bytes, out long blockSize)
    {
        blockSize = CachingAllocator.SizeClass(bytes);
        if (!_disposed && _free.TryPop(blockSize, out var p))
        {
            Interlocked.Increment(ref _reused);
            CachingAllocator.CountIn(blockSize);
            return p;
        }
        p = CachingAllocator.Allocate(bytes, out blockSize);
        Interlocked.Add(ref _reserved, blockSize);
        Interlocked.Increment(ref _added);
        return p;
    }

    internal void Return(nint p, long blockSize)
    {
        CachingAllocator.CountOut(blockSize);
        _free.Push(blockSize, p);
        // Freed as (or after) the pool was released: whatever is on the stacks now goes to the shared cache, this block
        // included (Release drains what was pushed before it set the flag).
        if (_disposed) _free.Drain(GiveBack);
    }

    void GiveBack(long size, nint block)
    {
        Interlocked.Add(ref _reserved, -size);
        CachingAllocator.Keep(block, size);
    }

    /// <summary>Hands the free blocks to the shared cache; blocks still in use go there when their tensors are freed.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    void Release()
    {
        _disposed = true;
        _free.Drain(GiveBack);
    }

    /// <summary>A pool dropped without disposing still gives its blocks back.</summary>
    ~MemoryPool() => Release();

    sealed class Scope : IDisposable
    {
        public static readonly IDisposable None = new Scope(null, true);
        readonly MemoryPool? _previous;
        readonly bool _none;
        public Scope(MemoryPool? previous, bool none = false) { _previous = previous; _none = none; }
        public void Dispose() { if (!_none) _current = _previous; }
    }
}
