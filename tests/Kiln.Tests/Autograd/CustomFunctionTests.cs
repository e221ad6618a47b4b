using System;
using Kiln;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>Autograd.Function: user-defined ops with a hand-written backward (torch.autograd.Function).</summary>
public class CustomFunctionTests
{
    /// <summary>x·sigmoid(w·x) with its derivative written out by hand.</summary>
    static Tensor Swish(Tensor x, Tensor w) => Autograd.Function("swish", [x, w],
        forward: () => x * (w * x).Sigmoid(),
        backward: grad =>
        {
            var s = (w * x).Sigmoid();
            var ds = s * (1.0 - s);
            return [grad * (s + x * ds * w), (grad * x * ds * x).Sum().Reshape(w.ShapeArray)];
        });

    [Fact]
    public void GradientsAgreeWithFiniteDifferences()
    {
        var g = new Generator(3);
        var x = Tensor.Randn([3, 4], DType.Float64, g).RequiresGrad_();
        var w = Tensor.Randn([1], DType.Float64, g).RequiresGrad_();
        Assert.True(Autograd.GradCheck(t => Swish(t[0], t[1]), [x, w]));
    }

    [Fact]
    public void TheNodeIsNamedAfterTheFunctionAndTheForwardRecordsNothing()
    {
        var x = Tensor.Ones(2).RequiresGrad_();
        var y = Swish(x, Tensor.Ones(1).RequiresGrad_());
        Assert.Equal("SwishBackward", y.GradFn!.Name);
        Assert.Equal("<SwishBackward>", y.GradFn.ToString());
    }

    [Fact]
    public void DoubleBackwardGoesThroughABackwardMadeOfTensorOps()
    {
        var x = Tensor.From(new[] { 0.5, -1.0 }, 2).RequiresGrad_();
        var w = Tensor.From(new[] { 2.0 }, 1);
        var dx = Autograd.Grad(Swish(x, w).Sum(), x, createGraph: true);
        var second = Autograd.Grad(dx.Sum(), x);
        // d²/dx² of x·σ(wx) = w·σ'(wx)·(2 + w·x·(1 - 2σ(wx))).
        for (int i = 0; i < 2; i++)
        {
            double xi = i == 0 ? 0.5 : -1.0, s = 1 / (1 + Math.Exp(-2 * xi)), ds = s * (1 - s);
            Assert.Equal(2 * ds * (2 + 2 * xi * (1 - 2 * s)), second.ToArray<double>()[i], 10);
        }
    }

    [Fact]
    public void ABackwardOfTheWrongShapeOrCountIsNamed()
    {
        var x = Tensor.Ones(3).RequiresGrad_();
        var wrongShape = Autograd.Function("bad_shape", [x], () => x * 2, grad => [Tensor.Ones(4)]);
        var e = Assert.Throws<KilnException>(() => wrongShape.Sum().Backward());
        Assert.Equal("BadShapeBackward: backward returned a gradient of shape [4] for input 0 of shape [3]", e.Message);
        var wrongCount = Autograd.Function("bad_count", [x], () => x * 2, grad => [grad, grad]);
        Assert.Equal("BadCountBackward: backward returned 2 gradients for 1 inputs", Assert.Throws<KilnException>(() => wrongCount.Sum().Backward()).Message);
    }

    [Fact]
    public void AForwardReturningItsInputLeavesTheInputALeaf()
    {
        var x = Tensor.Ones(2).RequiresGrad_();
        var y = Autograd.Function("identity", [x], () => x, grad => [grad * 3]);
        Assert.True(x.IsLeaf);
        y.Sum().Backward();
        Assert.Equal(new[] { 3f, 3f }, x.Grad!.ToArray<float>());
    }
}
