using System.Linq;
using Kiln;
using Xunit;

namespace Kiln.Tests.Core;

[Collection("Allocator")]
public class TensorApiTests
{
    [Fact]
    public void CreatesFromMultiDimensionalArrays()
    {
        var t = Tensor.From(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new[] { 2, 3 }, t.Shape);
        Assert.Equal(6f, t[1, 2].Item<float>());
        var l = Tensor.From(new long[,,] { { { 1 }, { 2 } } });
        Assert.Equal(DType.Int64, l.DType);
        Assert.Equal(new[] { 1, 2, 1 }, l.Shape);
    }

    [Fact]
    public void SlicingWithRangesAndIndicesIsAView()
    {
        var t = Tensor.Arange(12).View(3, 4);
        var s = t[.., 1..3];
        Assert.Equal(new[] { 3, 2 }, s.Shape);
        Assert.Equal(new long[] { 1, 2, 5, 6, 9, 10 }, s.ToArray<long>());
        Assert.False(s.IsContiguous);
        Assert.Equal(new long[] { 8, 9, 10, 11 }, t[^1].ToArray<long>());
        Assert.Same(t.Storage, s.Storage);
    }

    [Fact]
    public void InPlaceOpsWriteThroughViewsAndBumpTheVersion()
    {
        var t = Tensor.Zeros(2, 3);
        int v0 = t.Storage.Version;
        t[.., 1].Add_(5);
        Assert.Equal(new float[] { 0, 5, 0, 0, 5, 0 }, t.ToArray<float>());
        Assert.True(t.Storage.Version > v0);
        t.T.Mul_(2);
        Assert.Equal(new float[] { 0, 10, 0, 0, 10, 0 }, t.ToArray<float>());
    }

    [Fact]
    public void ScalarPromotionFollowsPyTorch()
    {
        var i32 = Tensor.From(new[] { 1, 2, 3 }, 3);
        Assert.Equal(DType.Int32, (i32 + 2L).DType);
        Assert.Equal(DType.Float32, (i32 + 2.5).DType);
        Assert.Equal(DType.Float32, (i32 / 2L).DType);
        var f16 = Tensor.Ones(new[] { 2 }, DType.Float16);
        Assert.Equal(DType.Float16, (f16 * 3.0).DType);
        Assert.Equal(DType.Float32, DTypes.Promote(DType.Float16, DType.BFloat16));
    }

    /// <summary>torch.finfo(dtype).min for each floating dtype: finite once stored in that dtype, the next value down -inf.</summary>
    [Theory]
    [InlineData(DType.Float32, -3.4028234663852886e38)]
    [InlineData(DType.Float64, double.MinValue)]
    [InlineData(DType.Float16, -65504.0)]
    [InlineData(DType.BFloat16, -3.3895313892515355e38)]
    public void MinValueIsTorchFinfoMin(DType dtype, double torchMin)
    {
        Assert.Equal(torchMin, dtype.MinValue());
        using var stored = Tensor.Full([1], dtype.MinValue(), dtype);
        Assert.Equal(torchMin, stored.To(DType.Float64).Item<double>());
        if (dtype is DType.Float16 or DType.BFloat16)
        {
            using var below = Tensor.Full([1], torchMin * 1.01, dtype);
            Assert.Equal(double.NegativeInfinity, below.To(DType.Float64).Item<double>());
        }
        var error = Assert.Throws<KilnException>(() => DType.Int64.MinValue());
        Assert.Contains("int64 is not a floating dtype", error.Message);
    }

    [Fact]
    public void LargeElementwiseRunsInParallelWithTheSameResult()
    {
        int saved = Threads.Count;
        try
        {
            var x = Tensor.Randn(new[] { 1 << 20 }, generator: new Generator(1));
            Threads.Count = 1;
            var one = x.Gelu().ToArray<float>();
            var s1 = x.Sum().Item<float>();
            Threads.Count = 2;
            Assert.Equal(one, x.Gelu().ToArray<float>());
            Assert.Equal(s1, x.Sum().Item<float>(), 3);
        }
        finally { Threads.Count = saved; }
    }

    [Fact]
    public void LongRowSumKeepsPrecision()
    {
        var x = Tensor.Full(new[] { 10_000_000 }, 0.1);
        Assert.Equal(1_000_000.0, x.Sum().Item<double>(), 0);
    }

    [Fact]
    public void PrintingElidesLargeTensors()
    {
        var s = Tensor.Arange(10_000).ToString();
        Assert.Equal("tensor([   0,    1,    2,  ..., 9997, 9998, 9999])", s);
    }

    [Fact]
    public void SplitAndChunkAreViews()
    {
        var t = Tensor.Arange(10);
        var parts = t.Chunk(3);
        Assert.Equal(new[] { 4, 4, 2 }, parts.Select(p => p.Shape[0]));
        Assert.All(parts, p => Assert.Same(t.Storage, p.Storage));
    }
}
