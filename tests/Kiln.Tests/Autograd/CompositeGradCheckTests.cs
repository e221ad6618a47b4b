using System;
using System.Collections.Generic;
using System.Linq;
using Kiln;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// Functions composed of recorded ops (activations, distances, amax, logaddexp, xlogy, grids, rotation, differences):
/// their gradients pass a float64 finite-difference check away from kinks and ties.
/// </summary>
public class CompositeGradCheckTests
{
    static Tensor R(params int[] shape) => Tensor.Randn(shape, DType.Float64, new Generator((ulong)shape.Sum() * 11 + 5)).RequiresGrad_();
    static Tensor P(params int[] shape) => (Tensor.Rand(shape, DType.Float64, new Generator((ulong)shape.Sum() * 13 + 7)) + 0.5).Detach().RequiresGrad_();
    // Another draw of the same shape (R would repeat the first one: its seed is the shape's).
    static Tensor R2(params int[] shape) => Tensor.Randn(shape, DType.Float64, new Generator((ulong)shape.Sum() * 19 + 1)).RequiresGrad_();
    static Tensor Unit(params int[] shape) => (Tensor.Rand(shape, DType.Float64, new Generator((ulong)shape.Sum() * 17 + 3)) * 0.8 + 0.1).Detach().RequiresGrad_();

    static readonly Dictionary<string, (Func<Tensor[], Tensor> Fn, Func<Tensor[]> Inputs)> Checks = new()
    {
        ["elu"] = (x => F.Elu(x[0], 0.7) + F.Celu(x[0], 1.3), () => [R(3, 4)]),
        ["prelu"] = (x => F.Prelu(x[0], x[1]), () => [R(2, 3, 4), P(3)]),
        ["glu"] = (x => F.Glu(x[0], 1), () => [R(2, 6, 3)]),
        ["shrink"] = (x => F.Softshrink(x[0], 0.3) + F.Hardshrink(x[0], 0.3) + F.Tanhshrink(x[0]) + F.Hardtanh(x[0], -0.4, 0.6) + F.Threshold(x[0], 0.2, -1), () => [R(3, 5)]),
        ["softmin"] = (x => F.Softmin(x[0], 1), () => [R(3, 4)]),
        ["normalize"] = (x => F.Normalize(x[0], dim: 1) + F.Normalize(x[0], p: 1, dim: 0), () => [R(3, 4)]),
        ["cosine_similarity"] = (x => F.CosineSimilarity(x[0], x[1], dim: -1), () => [R(2, 3, 5), R(5)]),
        ["pairwise_distance"] = (x => F.PairwiseDistance(x[0], x[1]) + F.PairwiseDistance(x[0], x[1], p: 3), () => [R(4, 3), R2(4, 3)]),
        ["cdist"] = (x => Tensor.Cdist(x[0], x[1]) + Tensor.Cdist(x[0], x[1], 1.5), () => [R(4, 3), R(5, 3)]),
        ["cdist_products"] = (x => Tensor.Cdist(x[0], x[1]), () => [R(27, 2), R(3, 2)]),
        ["amax"] = (x => x[0].Amax(1) + x[0].Amin(1), () => [R(3, 4)]),
        ["logaddexp"] = (x => x[0].Logaddexp(x[1]), () => [R(3, 4), R(4)]),
        ["xlogy"] = (x => x[0].Xlogy(x[1]), () => [R(5), P(5)]),
        ["logit"] = (x => x[0].Logit() + x[0].Logit(0.2), () => [Unit(6)]),
        ["meshgrid"] = (x => Tensor.Meshgrid([x[0], x[1]], "xy")[0] * Tensor.Meshgrid([x[0], x[1]], "xy")[1], () => [R(3), R(4)]),
        ["stack"] = (x => Tensor.Hstack(x[0], x[1]) + Tensor.Vstack(x[2], x[2]).Sum(0), () => [R(2, 3), R(2, 2), R(5)]),
        ["rot90_flip"] = (x => x[0].Rot90(1, 1, 2) * x[0].Rot90(-1, 1, 2) + x[0].Flip(0, 2).Rot90(2, 1, 2), () => [R(2, 3, 3)]),
        ["diff"] = (x => x[0].Diff(2, 1, prepend: x[1]), () => [R(3, 5), R(3, 2)]),
        ["take_along_dim"] = (x => x[0].TakeAlongDim(Tensor.From(new long[] { 2, 0, 1 }, 3, 1), 1), () => [R(3, 4)]),
        ["square"] = (x => x[0].Square(), () => [R(4)]),
        // Losses: the gradient of every floating input (targets of ±1 and class indices held constant).
        ["margin_ranking"] = (x => new MarginRankingLoss(0.3).Call(x[0], x[1], Tensor.From(new double[] { 1, -1, 1, -1 }, 4)), () => [R(4), R2(4)]),
        ["cosine_embedding"] = (x => new CosineEmbeddingLoss(0.1).Call(x[0], x[1], Tensor.From(new double[] { 1, -1, -1 }, 3)), () => [R(3, 4), R2(3, 4)]),
        ["triplet_margin"] = (x => new TripletMarginLoss(2, swap: true).Call(x[0], x[1], x[2]), () => [R(3, 4), R2(3, 4), R(3, 4) * 0.5]),
        ["gaussian_nll"] = (x => new GaussianNLLLoss(full: true).Call(x[0], x[1], x[2]), () => [R(3, 2), R2(3, 2), P(3, 2)]),
        ["poisson_nll"] = (x => new PoissonNLLLoss().Call(x[0], x[1]) + new PoissonNLLLoss(logInput: false, full: true).Call(x[2], x[1]), () => [R(5), P(5) * 4, P(5)]),
        ["margin_losses"] = (x => new HingeEmbeddingLoss(0.5).Call(x[0], Tensor.From(new double[] { 1, -1, 1, -1, -1 }, 5))
            + new SoftMarginLoss().Call(x[0], Tensor.From(new double[] { 1, -1, -1, 1, 1 }, 5))
            + new MultiLabelSoftMarginLoss().Call(x[1], Tensor.From(new double[] { 1, 0, 0, 1, 1, 0 }, 2, 3))
            + new MultiMarginLoss(2, 0.5).Call(x[1], Tensor.From(new long[] { 2, 0 }, 2)), () => [R(5), R(2, 3)]),
    };

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var k in Checks.Keys) d.Add(k);
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FiniteDifferencesAgree(string name)
    {
        var (fn, inputs) = Checks[name];
        Assert.True(Autograd.GradCheck(fn, inputs()));
    }

    [Fact]
    public void BadInputsNameTheFunction()
    {
        Assert.Contains("non-negative", Assert.Throws<KilnException>(() => Tensor.From(new long[] { 1, -1 }, 2).Bincount()).Message);
        Assert.Contains("1-d", Assert.Throws<KilnException>(() => Tensor.Ones(2, 2).Bincount()).Message);
        Assert.StartsWith("searchsorted:", Assert.Throws<KilnException>(() => Tensor.Searchsorted(Tensor.Ones(2, 3), Tensor.Ones(3, 1))).Message);
        Assert.StartsWith("meshgrid:", Assert.Throws<KilnException>(() => Tensor.Meshgrid(Tensor.Ones(2, 2))).Message);
        Assert.StartsWith("rot90:", Assert.Throws<KilnException>(() => Tensor.Ones(2, 2).Rot90(1, 1, 1)).Message);
        Assert.StartsWith("glu:", Assert.Throws<KilnException>(() => F.Glu(Tensor.Ones(2, 3))).Message);
        Assert.StartsWith("prelu:", Assert.Throws<KilnException>(() => F.Prelu(Tensor.Ones(2, 3), Tensor.Ones(2))).Message);
        Assert.StartsWith("cdist:", Assert.Throws<KilnException>(() => Tensor.Cdist(Tensor.Ones(2, 3), Tensor.Ones(2, 4))).Message);
        Assert.StartsWith("take_along_dim:", Assert.Throws<KilnException>(() => Tensor.Ones(2, 3).TakeAlongDim(Tensor.Zeros(new[] { 2 }, DType.Int64), 1)).Message);
        Assert.StartsWith("amax:", Assert.Throws<KilnException>(() => Tensor.Ones(0, 3).Amax(0)).Message);
        Assert.StartsWith("celu:", Assert.Throws<KilnException>(() => F.Celu(Tensor.Ones(2), 0)).Message);
        Assert.StartsWith("diff:", Assert.Throws<KilnException>(() => Tensor.Scalar(1.0).Diff()).Message);
        Assert.Equal("gaussian_nll_loss: var has negative entry/entries", Assert.Throws<KilnException>(() => F.GaussianNllLoss(Tensor.Ones(2), Tensor.Ones(2), Tensor.From(new float[] { 1, -1 }, 2))).Message);
        Assert.StartsWith("gaussian_nll_loss: var is of incorrect size", Assert.Throws<KilnException>(() => F.GaussianNllLoss(Tensor.Ones(2, 3), Tensor.Ones(2, 3), Tensor.Ones(3))).Message);
        Assert.StartsWith("margin_ranking_loss:", Assert.Throws<KilnException>(() => F.MarginRankingLoss(Tensor.Ones(2, 3), Tensor.Ones(3), Tensor.Ones(3))).Message);
        Assert.StartsWith("multi_margin_loss:", Assert.Throws<KilnException>(() => F.MultiMarginLoss(Tensor.Ones(2, 3), Tensor.Zeros(new[] { 2 }, DType.Int64), p: 3)).Message);
        Assert.StartsWith("cosine_embedding_loss:", Assert.Throws<KilnException>(() => F.CosineEmbeddingLoss(Tensor.Ones(2, 3), Tensor.Ones(2, 4), Tensor.Ones(2))).Message);
    }
}
