using System;
using System.Linq;
using Kiln;
using Xunit;

namespace Kiln.Tests.Core;

[Collection("Allocator")]
public class RandomTests
{
    [Fact]
    public void SameSeedSameNumbersOnAnyThreadCount()
    {
        int saved = Threads.Count;
        try
        {
            Threads.Count = 1;
            var g = new Generator(42);
            var a = Tensor.Randn(new[] { 100_000 }, generator: g).ToArray<float>();
            Threads.Count = 2;
            g.ManualSeed_(42);
            var b = Tensor.Randn(new[] { 100_000 }, generator: g).ToArray<float>();
            Assert.Equal(a, b);
        }
        finally { Threads.Count = saved; }
    }

    [Fact]
    public void ManualSeedRewindsTheDefaultGenerator()
    {
        Generator.ManualSeed(7);
        var a = Tensor.Rand(5).ToArray<float>();
        Generator.ManualSeed(7);
        var b = Tensor.Rand(5).ToArray<float>();
        Assert.Equal(a, b);
        Assert.NotEqual(a, Tensor.Rand(5).ToArray<float>());
    }

    [Fact]
    public void DistributionsHaveTheRightMoments()
    {
        var g = new Generator(3);
        var n = Tensor.Normal(new[] { 200_000 }, 2, 3, generator: g);
        Assert.InRange(n.Mean().Item<float>(), 1.97, 2.03);
        Assert.InRange(n.Std().Item<float>(), 2.97, 3.03);
        var u = Tensor.Rand(new[] { 200_000 }, generator: g);
        Assert.InRange(u.Min().Item<float>(), 0, 0.001);
        Assert.InRange(u.Max().Item<float>(), 0.999, 0.99999994);
        Assert.InRange(u.Mean().Item<float>(), 0.495, 0.505);
        var r = Tensor.RandInt(-3, 4, new[] { 10_000 }, generator: g).ToArray<long>();
        Assert.Equal(Enumerable.Range(-3, 7).Select(i => (long)i), r.Distinct().OrderBy(v => v));
    }
}

public class PhiloxFillTests
{
    [Theory]
    [InlineData(0UL, 1000)]
    [InlineData(3UL, 77)]
    [InlineData(1UL << 33, 129)]
    [InlineData(0xFFFFFFF0UL, 64)]
    [InlineData(5UL, 4099)]                     // an unaligned head, sixteen-block steps, then eight-, four- and one-block tails
    [InlineData((1UL << 34) - 200, 600)]        // block counters whose low halves wrap inside a sixteen-block step
    public void VectorFillMatchesTheScalarStream(ulong first, int length)
    {
        var dest = new uint[length];
        Philox.Fill(0x1234_5678_9ABCUL, first, dest);
        for (int i = 0; i < length; i++) Assert.Equal(Philox.Word(0x1234_5678_9ABCUL, first + (ulong)i), dest[i]);
    }
}
