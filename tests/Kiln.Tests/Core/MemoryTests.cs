using System;
using Kiln;
using Kiln.Memory;
using Xunit;

namespace Kiln.Tests.Core;

[Collection("Allocator")]
public class MemoryTests
{
    [Fact]
    public void StorageIsSixtyFourByteAligned()
    {
        using var t = Tensor.Empty(new[] { 3, 5 });
        unsafe { Assert.Equal(0, (long)t.DataPointer % 64); }
    }

    [Fact]
    public void ViewsShareStorageAndWritesShowThrough()
    {
        using var t = Tensor.Zeros(3, 4);
        using var row = t[1];
        row.Fill_(7);
        Assert.Same(t.Storage, row.Storage);
        Assert.Equal(new float[] { 0, 0, 0, 0, 7, 7, 7, 7, 0, 0, 0, 0 }, t.ToArray<float>());
    }

    [Fact]
    public void StorageLivesUntilTheLastViewIsDisposed()
    {
        var t = Tensor.Ones(1000);
        var v = t.View(10, 100);
        t.Dispose();
        Assert.False(v.Storage.IsFreed);
        Assert.Equal(1000f, v.Sum().Item<float>());
        v.Dispose();
        Assert.True(v.Storage.IsFreed);
    }

    [Fact]
    public void ScopeDisposesTemporariesAndKeepsWhatItIsAsked()
    {
        Tensor kept, temp;
        using (var scope = Tensor.Scope())
        {
            var a = Tensor.Ones(100);
            temp = a * 2.0;
            kept = scope.Keep(temp + 1.0);
        }
        Assert.True(temp.IsDisposed);
        Assert.False(kept.IsDisposed);
        Assert.Equal(300f, kept.Sum().Item<float>());
    }

    [Fact]
    public void AMillionDroppedTemporariesHoldSteadyMemory()
    {
        // No Dispose anywhere: finalizers plus the allocator's collection trigger must keep memory bounded.
        var x = Tensor.Ones(256);
        long peak = 0;
        for (int i = 0; i < 1_000_000; i++)
        {
            var y = x + 1.0;
            if (i % 50_000 == 0) peak = Math.Max(peak, CachingAllocator.BytesInUse);
        }
        Assert.True(peak < 1L << 30, $"bytes in use reached {peak}");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(CachingAllocator.BytesInUse < 64L << 20, $"after collection {CachingAllocator.BytesInUse} bytes are still in use");
    }

    [Fact]
    public void DisposedBlocksAreReusedFromTheCache()
    {
        using (Tensor.Empty(new[] { 4096 })) { }
        long before = CachingAllocator.OsAllocations;
        for (int i = 0; i < 100; i++) Tensor.Empty(new[] { 4096 }).Dispose();
        Assert.Equal(before, CachingAllocator.OsAllocations);
    }

    [Fact]
    public unsafe void BlocksFreedAndTakenOnManyThreadsAtOnceAreNeverHandedOutTwice()
    {
        // The cache is lock-free (finalizers free on their own thread while the program allocates): four threads take and
        // free blocks of three size classes, half dropped to the finalizer, each stamping its blocks and checking the stamp
        // is still there — a block handed to two owners would show another thread's stamp.
        long before = CachingAllocator.BytesInUse;
        int[] sizes = [16, 300, 5000];
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = new System.Threading.Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            int id = t + 1;
            threads[t] = new System.Threading.Thread(() =>
            {
                var held = new Tensor[8];
                for (int i = 0; i < 20_000; i++)
                {
                    int slot = i % held.Length;
                    if (held[slot] is { } old)
                    {
                        float stamp = old.ToArray<float>()[^1];
                        if (stamp != id * 100_000 + slot) failures.Add($"thread {id} found {stamp} in its block");
                        if (i % 2 == 0) old.Dispose();
                    }
                    var fresh = Tensor.Empty([sizes[i % sizes.Length]]);
                    new Span<float>(fresh.Storage.Pointer, fresh.Size(0)).Fill(id * 100_000 + slot);
                    held[slot] = fresh;
                }
                foreach (var h in held) h?.Dispose();
            });
            threads[t].Start();
        }
        foreach (var th in threads) th.Join();
        Assert.Empty(failures);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(CachingAllocator.BytesInUse <= before + (1 << 20), $"{CachingAllocator.BytesInUse - before} bytes still in use");
    }
}

// Tests that read allocator counters, change process-wide switches (Threads.Count, Sgemm kernels) or compare runs
// seeded through the global generator run alone.
[CollectionDefinition("Allocator", DisableParallelization = true)]
public class AllocatorCollection { }
