using Kiln;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// A batch of zero samples (the last, empty shard of a split; a filter that kept nothing) runs through layers as in
/// PyTorch: an empty result of the right shape, empty gradients, and running statistics left alone.
/// </summary>
public class EmptyBatchTests
{
    static void EmptyThrough(Module<Tensor, Tensor> layer, int[] inputShape, int[] outputShape)
    {
        var x = Tensor.Zeros(inputShape);
        x.RequiresGrad = true;
        var y = layer.Call(x);
        Assert.Equal(outputShape, y.ShapeArray);
        y.Sum().Backward();
        Assert.Equal(inputShape, x.Grad!.ShapeArray);
        foreach (var p in layer.Parameters())
            if (p.Grad is { } g) Assert.All(g.ToArray<float>(), v => Assert.Equal(0f, v)); // sums over no samples
    }

    [Fact]
    public void GroupNormOfAnEmptyBatch() => EmptyThrough(new GroupNorm(2, 4), [0, 4, 3], [0, 4, 3]);

    [Fact]
    public void BatchNormTrainingOnAnEmptyBatchKeepsRunningStatistics()
    {
        var bn = new BatchNorm2d(4);
        bn.RunningMean!.Fill_(0.5);
        EmptyThrough(bn, [0, 4, 2, 2], [0, 4, 2, 2]);
        Assert.All(bn.RunningMean!.ToArray<float>(), v => Assert.Equal(0.5f, v));
        Assert.All(bn.RunningVar!.ToArray<float>(), v => Assert.Equal(1f, v));
        Assert.Equal(1L, bn.NumBatchesTracked!.ToArray<long>()[0]); // counted, as PyTorch counts it
    }

    [Fact]
    public void BatchNormStillRefusesOneValuePerChannel()
    {
        var e = Assert.Throws<KilnException>(() => new BatchNorm1d(4).Call(Tensor.Zeros(1, 4, 1)));
        Assert.Equal("batch_norm: Expected more than 1 value per channel when training, got input size [1, 4, 1]", e.Message);
    }

    [Fact]
    public void OtherLayersOfAnEmptyBatch()
    {
        EmptyThrough(new Linear(4, 3), [0, 4], [0, 3]);
        EmptyThrough(new Conv2d(2, 3, 3), [0, 2, 5, 5], [0, 3, 3, 3]);
        EmptyThrough(new LayerNorm(4), [0, 4], [0, 4]);
        EmptyThrough(new InstanceNorm1d(4), [0, 4, 3], [0, 4, 3]);
        EmptyThrough(new BatchNorm1d(4), [0, 4], [0, 4]);
        EmptyThrough(new MaxPool2d(2), [0, 2, 4, 4], [0, 2, 2, 2]);
    }
}
