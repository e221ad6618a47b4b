using System;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// <see cref="Autograd.Checkpoint"/>: the recomputed backward gives the same input and parameter gradients as the
/// recorded one (finite differences in float64 too), and keeps nothing of the block's interior in the graph.
/// </summary>
[Collection(DefaultGeneratorCollection.Name)]
public class CheckpointTests
{
    [Fact]
    public void RecomputedGradientsPassAFiniteDifferenceCheck()
    {
        var g = new Generator(3);
        var w = Tensor.Randn([5, 4], DType.Float64, g).RequiresGrad_();
        var x = Tensor.Randn([3, 4], DType.Float64, g).RequiresGrad_();
        Tensor Block(Tensor t) => (t.Matmul(w.T).Tanh() * 2).Sigmoid();
        Assert.True(Autograd.GradCheck(a => Autograd.Checkpoint(Block, a[0], [a[1]]).Sum(), [x, w]));
    }

    [Fact]
    public void TheSameGradientsAsWithoutIt()
    {
        Generator.ManualSeed(8);
        var layer = new Linear(6, 6);
        var x = Tensor.Randn([4, 6]).RequiresGrad_();
        Tensor Block(Tensor t) => F.Gelu(layer.Forward(t)) + t;
        Block(x).Pow(2).Sum().Backward();
        var gx = x.Grad!.ToArray<float>();
        var gw = layer.Weight.Grad!.ToArray<float>();
        x.Grad = null; layer.ZeroGrad();
        var y = Autograd.Checkpoint(Block, x, layer.Parameters());
        Assert.Equal("CheckpointBackward", y.GradFn!.Name);
        y.Pow(2).Sum().Backward();
        Assert.Equal(gx, x.Grad!.ToArray<float>());
        Assert.Equal(gw, layer.Weight.Grad!.ToArray<float>());
    }

    [Fact]
    public void DropoutInsideDrawsTheSameMaskInTheReplay()
    {
        // As torch's preserve_rng_state: the replay starts from the generator state the forward found, and the program's
        // later draws continue from where they would have without the replay.
        Generator.ManualSeed(5);
        var layer = new Linear(8, 8);
        var x = Tensor.Randn([16, 8]).RequiresGrad_();
        Tensor Block(Tensor t) => F.Dropout(F.Relu(layer.Forward(t)), 0.5, training: true);

        Generator.ManualSeed(11);
        Block(x).Pow(2).Sum().Backward();
        var gx = x.Grad!.ToArray<float>();
        var gw = layer.Weight.Grad!.ToArray<float>();
        float after = Tensor.Rand([1]).Item<float>();
        x.Grad = null; layer.ZeroGrad();

        Generator.ManualSeed(11);
        var y = Autograd.Checkpoint(Block, x, layer.Parameters());
        y.Pow(2).Sum().Backward();
        Assert.Equal(gx, x.Grad!.ToArray<float>());
        Assert.Equal(gw, layer.Weight.Grad!.ToArray<float>());
        Assert.Equal(after, Tensor.Rand([1]).Item<float>());
        Assert.Contains(gx, v => v == 0f);   // the mask did drop something
    }
}
