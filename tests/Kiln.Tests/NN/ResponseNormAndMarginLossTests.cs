using System;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// Local response normalization, the multi-label hinge loss, the triplet loss with a distance function and the 3-D and
/// circular paddings beyond their golden cases (nn.json): float64 finite differences and refusals.
/// </summary>
public class ResponseNormAndMarginLossTests
{
    [Fact]
    public void GradientsPassFiniteDifferencesInFloat64()
    {
        var x = Tensor.Randn([2, 5, 3], DType.Float64, new Generator(1)).RequiresGrad_();
        Assert.True(Autograd.GradCheck(a => F.LocalResponseNorm(a[0], 3, 0.1, 0.75, 1.0), [x]));
        var scores = Tensor.Randn([3, 4], DType.Float64, new Generator(2)).RequiresGrad_();
        var targets = Tensor.From(new long[] { 2, 0, -1, 0, 1, 2, 3, 0, -1, 0, 0, 0 }, 3, 4);
        Assert.True(Autograd.GradCheck(a => F.MultilabelMarginLoss(a[0], targets), [scores]));
        var anchor = Tensor.Randn([4, 3], DType.Float64, new Generator(3)).RequiresGrad_();
        var positive = Tensor.Randn([4, 3], DType.Float64, new Generator(4));
        var negative = Tensor.Randn([4, 3], DType.Float64, new Generator(5));
        Assert.True(Autograd.GradCheck(a => F.TripletMarginWithDistanceLoss(a[0], positive, negative, (u, v) => (u - v).Abs().Sum(-1), margin: 2, swap: true), [anchor]));
    }

    [Fact]
    public void AllClassesListedOrNoneListedCostNothing()
    {
        using var x = Tensor.From(new[] { 0.3f, -1.0f, 2.0f }, 3);
        using var all = F.MultilabelMarginLoss(x, Tensor.From(new long[] { 0, 1, 2 }, 3));
        using var none = F.MultilabelMarginLoss(x, Tensor.From(new long[] { -1, 1, 2 }, 3));
        Assert.Equal(0f, all.Item<float>());
        Assert.Equal(0f, none.Item<float>());
        // Only class 0 listed (the list ends at -1): (max(0, 1 - (0.3 + 1)) + max(0, 1 - (0.3 - 2)))/3 = 2.7/3.
        using var one = F.MultilabelMarginLoss(x, Tensor.From(new long[] { 0, -1, 2 }, 3));
        Assert.Equal(0.9f, one.Item<float>(), 6);
    }

    [Fact]
    public void BadInputsAreRefusedByName()
    {
        Assert.Contains("local_response_norm: expected 3D or higher dimensionality input (got 2 dimensions)",
            Assert.Throws<KilnException>(() => F.LocalResponseNorm(Tensor.Ones(2, 3), 2)).Message);
        Assert.Contains("target index 7 at [0, 1] is out of range for 3 classes",
            Assert.Throws<KilnException>(() => F.MultilabelMarginLoss(Tensor.Ones(2, 3), Tensor.From(new long[] { 0, 7, -1, 0, 0, 0 }, 2, 3))).Message);
        Assert.Contains("the target must hold class indices",
            Assert.Throws<KilnException>(() => F.MultilabelMarginLoss(Tensor.Ones(3), Tensor.Ones(3))).Message);
        Assert.Contains("multilabel_margin_loss: expected input [N, C] or [C] and a target of the same shape, got [2, 3] and [3]",
            Assert.Throws<KilnException>(() => F.MultilabelMarginLoss(Tensor.Ones(2, 3), Tensor.From(new long[] { 0, 1, 2 }, 3))).Message);
        Assert.Contains("margin must be greater than 0",
            Assert.Throws<KilnException>(() => F.TripletMarginWithDistanceLoss(Tensor.Ones(2, 3), Tensor.Ones(2, 3), Tensor.Ones(2, 3), margin: 0)).Message);
        Assert.Contains("ReflectionPad3d: expected 6 padding amounts (left, right, top, bottom, front, back), got 4",
            Assert.Throws<KilnException>(() => new ReflectionPad3d([1, 1, 1, 1])).Message);
        using var wrapped = new CircularPad1d(2).Forward(Tensor.From(new[] { 1f, 2f, 3f }, 1, 3));
        Assert.Equal(new[] { 2f, 3f, 1f, 2f, 3f, 1f, 2f }, wrapped.ToArray<float>());
        Assert.Equal("LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)", new LocalResponseNorm(3).ToString());
    }
}
