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
}

// Tests that read allocator counters, change process-wide switches (Threads.Count, Sgemm kernels) or compare runs
// seeded through the global generator run alone.
[CollectionDefinition("Allocator", DisableParallelization = true)]
public class AllocatorCollection { }
