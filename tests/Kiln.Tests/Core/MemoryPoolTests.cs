using System;
using Kiln;
using Kiln.Memory;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>A private memory pool (ReduceOverhead): blocks reserved once, reused, counted, handed back.</summary>
[Collection("Allocator")]
public class MemoryPoolTests
{
    [Fact]
    public void TensorsMadeInTheScopeReuseThePoolsBlocksAndCountAsInUse()
    {
        using var pool = new MemoryPool();
        long before = CachingAllocator.BytesInUse;
        using (MemoryPool.Use(pool))
        {
            var a = Tensor.Ones(1000);
            Assert.Equal(1, pool.Additions);
            Assert.True(CachingAllocator.BytesInUse >= before + 4000);
            a.Dispose();
            Assert.Equal(before, CachingAllocator.BytesInUse);
            // The same size again: the pool's own block, nothing added.
            var b = Tensor.Zeros(1000);
            Assert.Equal(1, pool.Additions);
            Assert.Equal(1, pool.Reuses);
            Assert.Equal(0f, b.Sum().Item<float>());
            b.Dispose();
        }
        Assert.True(pool.ReservedBytes >= 4000);
        // Outside the scope the shared cache serves, and the pool is untouched.
        using (var c = Tensor.Ones(1000)) Assert.Equal(1, pool.Reuses);
    }

    [Fact]
    public void ScopesNestAndRestoreThePreviousPool()
    {
        using var outer = new MemoryPool();
        using var inner = new MemoryPool();
        using (MemoryPool.Use(outer))
        {
            using (MemoryPool.Use(inner)) using (Tensor.Ones(10)) { }
            using (Tensor.Ones(10)) { }
            using (MemoryPool.Use(null)) using (Tensor.Ones(10)) { }   // null: the current pool stays
        }
        Assert.Equal(1, inner.Additions);
        Assert.Equal(1, outer.Additions);
        Assert.Equal(1, outer.Reuses);
    }

    [Fact]
    public void ADisposedPoolGivesItsBlocksToTheSharedCacheAndLaterFreesGoThereToo()
    {
        var pool = new MemoryPool();
        Tensor kept;
        using (MemoryPool.Use(pool))
        {
            using (Tensor.Ones(2048)) { }
            kept = Tensor.Ones(4096);
        }
        long cached = CachingAllocator.BytesCached;
        pool.Dispose();
        Assert.True(CachingAllocator.BytesCached >= cached + 8192, "the free block went to the shared cache");
        long inUse = CachingAllocator.BytesInUse;
        kept.Dispose();
        Assert.True(CachingAllocator.BytesInUse <= inUse - 16384);
        Assert.Equal(0, pool.ReservedBytes);
    }
}
