using System;
using System.Collections.Generic;
using System.Threading;
using Kiln.Data;
using Kiln.Memory;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// Inputs that used to corrupt memory, crash the process or give wrong answers through integer overflow: each must now
/// be a clear <see cref="KilnException"/> or the right result.
/// </summary>
[Collection("Allocator")]
public class MemorySafetyTests
{
    [Fact]
    public void ShapesWhoseElementCountOverflowsAreRefused()
    {
        var e = Assert.Throws<KilnException>(() => Tensor.Zeros(65536, 65536, 65536, 65536));
        Assert.Contains("overflowed", e.Message);
        Assert.Contains("[65536, 65536, 65536, 65536]", e.Message);
        // Fits in elements, not in bytes.
        Assert.Throws<KilnException>(() => Tensor.Empty(new[] { int.MaxValue, int.MaxValue, 4 }, DType.Float64));
    }

    [Fact]
    public void ExpandingPastTheElementCountIsRefusedRatherThanSummingToZero()
    {
        using var one = Tensor.Ones(1);
        var e = Assert.Throws<KilnException>(() => one.Expand(65536, 65536, 65536, 65536));
        Assert.Contains("overflowed", e.Message);
        // A huge but representable broadcast still works: 2^40 elements summed from one stored value.
        using var big = one.Expand(1 << 20, 1 << 20);
        Assert.Equal(1L << 40, big.Numel);
    }

    [Fact]
    public void NarrowWithAStartThatOverflowsIsRefused()
    {
        using var t = Tensor.Arange(0, 16);
        var e = Assert.Throws<KilnException>(() => t.Narrow(0, long.MaxValue - 7, 16));
        Assert.StartsWith("narrow:", e.Message);
        Assert.Throws<KilnException>(() => t.Narrow(0, 10, 7));
        using var ok = t.Narrow(0, 10, 6);
        Assert.Equal(new long[] { 10, 11, 12, 13, 14, 15 }, ok.ToArray<long>());
    }

    [Fact]
    public void SliceWithAHugeStepGivesOneElementNotANegativeSize()
    {
        using var t = Tensor.Arange(0, 10);
        using var s = t.Slice(0, 3, null, long.MaxValue);
        Assert.Equal(new[] { 1 }, s.Shape);
        Assert.Equal(new long[] { 3 }, s.ToArray<long>());
        using var empty = t.Slice(0, 10, null, long.MaxValue);
        Assert.Equal(0, empty.Numel);
        using var every3 = t.Slice(0, 1, 9, 3);
        Assert.Equal(new long[] { 1, 4, 7 }, every3.ToArray<long>());
    }

    [Fact]
    public void SelectAndIndexerRefuseOutOfRangeIndices()
    {
        using var t = Tensor.Zeros(3, 4);
        Assert.Throws<KilnException>(() => t.Select(0, long.MaxValue));
        Assert.Throws<KilnException>(() => t.Select(1, long.MinValue));
        Assert.Throws<KilnException>(() => t[3]);
        Assert.Throws<KilnException>(() => t[1, 4]);
        using var last = t[^1];
        Assert.Equal(new[] { 4 }, last.Shape);
    }

    [Fact]
    public void UnfoldWithWindowsLargerThanTheInputIsRefused()
    {
        using var x = Tensor.Zeros(1, 1, 4, 4);
        Assert.Throws<KilnException>(() => Kiln.NN.F.Unfold(x, new[] { int.MaxValue, 2 }));
        Assert.Throws<KilnException>(() => Kiln.NN.F.Unfold(x, new[] { 2, 2 }, stride: new[] { 0, 1 }));
    }

    /// <summary>2^31 + 40 bytes: past every int count. Fill, an in-place add, a reduction and repeat over it.</summary>
    [Fact]
    public void KernelsCountElementsInSixtyFourBits()
    {
        long n = (1L << 31) + 40;
        using var t = Tensor.Empty(new[] { 2, (int)(n / 2) }, DType.UInt8);
        t.Fill_(1);
        t.Add_(Tensor.Scalar(2L));
        Assert.Equal(3, t[0, 0].Item<byte>());
        Assert.Equal(3, t[1, ^1].Item<byte>());
        Assert.Equal(3, t[1, 20].Item<byte>());
        // One dimension holds at most int.MaxValue elements: flattening says so instead of wrapping around.
        Assert.Contains("more than", Assert.Throws<KilnException>(() => t.View(-1)).Message);
        using var sum = t.Sum();
        Assert.Equal(3 * n, sum.Item<long>());
        t.Dispose();

        using var small = Tensor.From(new byte[] { 1, 2, 3, 4 }, 4);
        using var tiled = small.Repeat(1 << 29, 1);
        Assert.Equal(new[] { 1 << 29, 4 }, tiled.Shape);
        using var last = tiled[^1];
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, last.ToArray<byte>());
    }

    [Fact]
    public void GemmPackingBuffersAreFreedWhenTheirThreadEnds()
    {
        using var a = Tensor.Randn(64, 300);
        using var b = Tensor.Randn(300, 200);
        using (var warm = a.Matmul(b)) { }
        long before = NativeBytes();
        for (int round = 0; round < 5; round++)
        {
            var threads = new List<Thread>();
            for (int i = 0; i < 40; i++)
            {
                var th = new Thread(() => { using var c = a.Matmul(b); });
                th.Start();
                threads.Add(th);
            }
            foreach (var th in threads) th.Join();
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        // 200 threads left ~1.1 MiB each behind before (about 220 MiB); now the buffers go with their threads.
        long grown = NativeBytes() - before;
        Assert.True(grown < 64L << 20, $"native memory grew by {grown >> 20} MiB over 200 short-lived GEMM threads");
    }

    static long NativeBytes()
    {
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        p.Refresh();
        return p.PrivateMemorySize64;
    }

    sealed class Numbers(int n) : Dataset<Tensor>
    {
        public override int Count => n;
        public override Tensor this[int index] => Tensor.From(new float[] { index }, 1);
    }

    [Fact]
    public void AnAbandonedLoaderEnumeratorStopsItsWorkers()
    {
        int before = PrefetchingEnumerator<Tensor>.LiveWorkers;
        Abandon(new DataLoader<Tensor, Tensor>(new Numbers(1000), Collate.Tensors, batchSize: 2, numWorkers: 3));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (PrefetchingEnumerator<Tensor>.LiveWorkers > before && DateTime.UtcNow < deadline)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Thread.Sleep(20);
        }
        Assert.Equal(before, PrefetchingEnumerator<Tensor>.LiveWorkers);
    }

    // Not inlined, so the enumerator is unreachable once it returns.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static void Abandon(DataLoader<Tensor, Tensor> loader)
    {
        var e = loader.GetEnumerator();
        Assert.True(e.MoveNext());
        Assert.Equal(new float[] { 0, 1 }, e.Current.ToArray<float>());
        Assert.True(PrefetchingEnumerator<Tensor>.LiveWorkers >= 1);
    }

    [Fact]
    public void ADisposedOrFinishedLoaderEnumeratorLeavesNoWorkers()
    {
        int before = PrefetchingEnumerator<Tensor>.LiveWorkers;
        var loader = new DataLoader<Tensor, Tensor>(new Numbers(50), Collate.Tensors, batchSize: 5, numWorkers: 2);
        int count = 0;
        foreach (var b in loader) { count++; if (count == 3) break; }
        Assert.Equal(3, count);
        Assert.Equal(before, PrefetchingEnumerator<Tensor>.LiveWorkers);
        float total = 0;
        foreach (var b in loader) total += b.Sum().Item<float>();
        Assert.Equal(49 * 50 / 2f, total);
        Assert.Equal(before, PrefetchingEnumerator<Tensor>.LiveWorkers);
    }
}
