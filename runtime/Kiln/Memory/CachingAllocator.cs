using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Kiln.Memory;

/// <summary>
/// Host memory for tensors: 64-byte aligned blocks, cached by size class so that a training loop
/// reuses the same blocks instead of calling the OS every step. Counters make leaks measurable.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class CachingAllocator
{
    const int Alignment = 64;
    static readonly BlockStacks Cache = new();
    static long _inUse, _cached, _peak, _live, _osAllocs, _inUseAfterCollect;

    /// <summary>Largest number of bytes kept in the cache; beyond it freed blocks go back to the OS.</summary>
    public static long CacheLimitBytes { get; set; } = 1L << 30;

    /// <summary>Bytes handed out to live storages (size-class rounded).</summary>
    public static long BytesInUse => Interlocked.Read(ref _inUse);
    /// <summary>The high-water mark of <see cref="BytesInUse"/>; reset with <see cref="ResetPeak"/>.</summary>
    public static long PeakBytesInUse => Interlocked.Read(ref _peak);
    /// <summary>Bytes held in the cache, free for reuse.</summary>
    public static long BytesCached => Interlocked.Read(ref _cached);
    /// <summary>Number of live blocks.</summary>
    public static long LiveBlocks => Interlocked.Read(ref _live);
    /// <summary>Number of blocks obtained from the OS since start (cache misses).</summary>
    public static long OsAllocations => Interlocked.Read(ref _osAllocs);

    /// <summary>Sets the peak to the current use.</summary>
    public static void ResetPeak() => Interlocked.Exchange(ref _peak, BytesInUse);

    /// <summary>Returns all cached blocks to the OS.</summary>
    public static void EmptyCache()
    {
        Cache.Drain(static (size, p) =>
        {
            NativeMemory.AlignedFree((void*)p);
            Interlocked.Add(ref _cached, -size);
        });
    }

    /// <summary>Rounds a request up to its size class: 64 bytes, then steps of 1/4 of a power of two.</summary>
    internal static long SizeClass(long bytes)
    {
        if (bytes <= Alignment) return Alignment;
        long p = 1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(bytes - 1)));
        long step = Math.Max(Alignment, p / 4);
        return (bytes + step - 1) / step * step;
    }

    internal static nint Allocate(long bytes, out long blockSize)
    {
        blockSize = SizeClass(bytes);
        MaybeCollect(blockSize);
        nint p = 0;
        if (Cache.TryPop(blockSize, out p)) Interlocked.Add(ref _cached, -blockSize);
        if (p == 0)
        {
            // Big blocks start on a huge-page boundary so that all of them can be backed by 2 MiB pages.
            bool huge = blockSize >= HugePages.MinBytes && HugePages.Available;
            p = (nint)NativeMemory.AlignedAlloc((nuint)blockSize, huge ? (nuint)HugePages.Alignment : Alignment);
            if (p == 0) throw new OutOfMemoryException($"Kiln could not allocate {blockSize} bytes of host memory");
            HugePages.Advise(p, blockSize);
            Interlocked.Increment(ref _osAllocs);
        }
        CountIn(blockSize);
        return p;
    }

    internal static void Free(nint p, long blockSize)
    {
        CountOut(blockSize);
        Keep(p, blockSize);
    }

    /// <summary>Counts a block as handed out again (a <see cref="MemoryPool"/> reusing one of its own blocks).</summary>
    internal static void CountIn(long blockSize)
    {
        long now = Interlocked.Add(ref _inUse, blockSize);
        Interlocked.Increment(ref _live);
        long peak;
        while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak) { }
    }

    /// <summary>Counts a block as no longer in use (it goes to the cache, the OS or a <see cref="MemoryPool"/>).</summary>
    internal static void CountOut(long blockSize)
    {
        Interlocked.Add(ref _inUse, -blockSize);
        Interlocked.Decrement(ref _live);
    }

    /// <summary>Puts a block that is not in use into the shared cache (or back to the OS beyond the limit).</summary>
    internal static void Keep(nint p, long blockSize)
    {
        // Over the limit by at most what threads freeing at the same moment add.
        if (Interlocked.Add(ref _cached, blockSize) <= CacheLimitBytes)
        {
            Cache.Push(blockSize, p);
            return;
        }
        Interlocked.Add(ref _cached, -blockSize);
        NativeMemory.AlignedFree((void*)p);
    }

    /// <summary>
    /// Undisposed tensors are freed by finalizers, which run only after a GC, and the GC cannot see
    /// native bytes. When the bytes in use grow by 256 MiB (or double) since the last collection, the
    /// allocator asks for one so that dropped temporaries come back; a loop's memory stays steady
    /// without any Dispose, and a loop that reuses cached blocks never pays for a collection.
    /// </summary>
    static void MaybeCollect(long bytes)
    {
        long baseline = Interlocked.Read(ref _inUseAfterCollect);
        if (BytesInUse + bytes < baseline + Math.Max(256L << 20, baseline)) return;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Interlocked.Exchange(ref _inUseAfterCollect, BytesInUse);
    }
}
