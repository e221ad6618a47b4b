using System;
using System.Collections.Generic;
using System.Linq;
using Kiln;
using Kiln.NN;
using Xunit;
using KD = Kiln.Distributions;

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
    static Tensor Longs(params long[] values) => Tensor.From(values, values.Length);
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
        ["tensordot"] = (x => x[0].Tensordot(x[1]) + x[0].Tensordot(x[1].Permute(1, 2, 0), [1, 2], [2, 0]), () => [R(2, 3, 4), R2(3, 4, 5)]),
        ["block_diag"] = (x => Tensor.BlockDiag(x[0], x[1], x[2]) * 1.5, () => [R(2, 3), R(4), R2(1, 2)]),
        ["cartesian_prod"] = (x => Tensor.CartesianProd(x[0], x[1], x[0]).Square(), () => [R(3), R(2)]),
        ["combinations"] = (x => x[0].Combinations(3).Prod(1) + x[0].Combinations(2, withReplacement: true).Sum([1]).Sum(), () => [R(5)]),
        ["vander"] = (x => x[0].Vander() * 0.5 + x[0].Vander(5, increasing: true).Sum(), () => [Tensor.From(new[] { 0.0, 1.3, -0.7, 2.1 }, 4).RequiresGrad_()]),
        ["trapezoid"] = (x => x[0].Trapezoid(x[1]) + x[0].CumulativeTrapezoid(x[1]).Sum([1]) + x[0].Trapezoid(0.3, 0).Sum(), () => [R(3, 5), R2(5)]),
        ["renorm"] = (x => x[0].Renorm(2, 0, 1.5) + x[0].Renorm(1, 1, 2.0), () => [(R(3, 4) * 2).Detach().RequiresGrad_()]),
        ["ldexp_frexp"] = (x => x[0].Ldexp(Tensor.From(new long[] { 1, -2, 3 }, 3)) + x[0].Frexp().Mantissa, () => [R(2, 3)]),
        ["std_var_mean"] = (x => x[0].StdMean([1]).Std + x[0].VarMean([1], correction: 0).Mean * 2, () => [R(3, 4)]),
        ["meshgrid"] = (x => Tensor.Meshgrid([x[0], x[1]], "xy")[0] * Tensor.Meshgrid([x[0], x[1]], "xy")[1], () => [R(3), R(4)]),
        ["stack"] = (x => Tensor.Hstack(x[0], x[1]) + Tensor.Vstack(x[2], x[2]).Sum(0), () => [R(2, 3), R(2, 2), R(5)]),
        ["rot90_flip"] = (x => x[0].Rot90(1, 1, 2) * x[0].Rot90(-1, 1, 2) + x[0].Flip(0, 2).Rot90(2, 1, 2), () => [R(2, 3, 3)]),
        ["diff"] = (x => x[0].Diff(2, 1, prepend: x[1]), () => [R(3, 5), R(3, 2)]),
        ["take_along_dim"] = (x => x[0].TakeAlongDim(Tensor.From(new long[] { 2, 0, 1 }, 3, 1), 1), () => [R(3, 4)]),
        ["square"] = (x => x[0].Square(), () => [R(4)]),
        // The surface added beside the layers: index updates, scans, NaN-aware reductions, windows, products, covariance,
        // linalg, pointwise compositions.
        ["index_add"] = (x => x[0].IndexAdd(0, Longs(2, 0, 2), x[1], alpha: 0.7), () => [R(4, 3), R2(3, 3)]),
        ["index_copy"] = (x => x[0].IndexCopy(1, Longs(3, 0), x[1]), () => [R(2, 5), R2(2, 2)]),
        ["index_fill"] = (x => x[0].IndexFill(0, Longs(1), 3.0) * x[0], () => [R(3, 2)]),
        ["repeat_interleave"] = (x => x[0].RepeatInterleave(2, 1) + x[1].RepeatInterleave(Longs(2, 1, 3), 1)[.., ..6], () => [R(2, 3), R2(2, 3)]),
        ["cummax_cummin"] = (x => x[0].Cummax(1).Values + x[0].Cummin(0).Values, () => [R(3, 5)]),
        ["logcumsumexp"] = (x => x[0].Logcumsumexp(1) + x[0].Logcumsumexp(0), () => [R(3, 6)]),
        ["nan_functions"] = (x => x[0].NanToNum().Sum(0) + x[0].Nansum(0) + x[0].Nanmean(0), () => [R(3, 4)]),
        ["windows_and_diagonals"] = (x => x[0].Unfold(1, 2, 1).Sum(-1) + x[0].Diagonal(1).Sum() + x[1].DiagEmbed(1).Sum(-1)[.., ..2], () => [R(2, 3), R2(2, 2)]),
        ["products"] = (x => x[0].Mm(x[1]).Sum(1) + x[0].Mv(x[2]) + x[2].Dot(x[2]) + x[0].Inner(x[1].T).Sum(1), () => [R(2, 3), R2(3, 4), R(3)]),
        ["kron"] = (x => x[0].Kron(x[1]), () => [R(2, 3), R2(2, 2)]),
        ["add_products"] = (x => Tensor.Baddbmm(x[0], x[1], x[2], 0.5, 2).Sum(0) + Tensor.Addr(x[3], x[4], x[5], 1.5, -1),
            () => [R(2, 3, 4), R2(2, 3, 5), R(2, 5, 4), R2(3, 4), R(3), R2(4)]),
        ["addmv"] = (x => Tensor.Addmv(x[0], x[1], x[2], 0.5, 2), () => [R(3), R2(3, 4), R(4)]),
        ["cross"] = (x => Linalg.Cross(x[0], x[1]), () => [R(2, 3), R2(2, 3)]),
        ["matrix_power"] = (x => Linalg.MatrixPower(x[0], 3) + Linalg.MatrixPower(x[0], -2), () => [(R(3, 3) * 0.3 + Tensor.Eye(3, null, DType.Float64)).Detach().RequiresGrad_()]),
        ["cov"] = (x => x[0].Cov(aweights: x[1]) + x[0].Corrcoef(), () => [R(3, 6), P(6)]),
        ["kthvalue"] = (x => x[0].Kthvalue(2, 1).Values, () => [R(3, 4)]),
        ["pointwise"] = (x => x[0].Fmod(x[1]) + x[0].Frac() + x[0].Hypot(x[1]) + x[0].Copysign(x[1]) + x[0].Sinc() + x[0].Deg2rad() + x[0].Logaddexp2(x[1]),
            () => [P(6) * 3, R2(6) + 4]),
        ["float_power"] = (x => x[0].FloatPower(x[1]) + x[0].FloatPower(2.5), () => [P(5), R2(5)]),
        ["cholesky_slogdet"] = (x => Linalg.Cholesky(x[0].Matmul(x[0].T) + Tensor.Eye(3, null, DType.Float64)).Sum() + Linalg.Slogdet(x[0]).LogAbsDet, () => [R(3, 3)]),
        ["eigh"] = (x => Linalg.Eigh(x[0] + x[0].T) is var (l, v) ? (v * v * l.Unsqueeze(-2)).Sum(0) : x[0], () => [R(4, 4)]),
        ["pinv"] = (x => Linalg.Pinv(x[0]), () => [R(4, 3)]),
        ["scatter_reduce_prod_amax"] = (x => x[0].ScatterReduce(1, Tensor.From(new long[] { 0, 2, 2, 1, 1, 1 }, 2, 3), x[1], "prod")
            + x[0].ScatterReduce(1, Tensor.From(new long[] { 0, 2, 2, 1, 1, 1 }, 2, 3), x[1], "amax", includeSelf: false)
            + x[0].ScatterReduce(1, Tensor.From(new long[] { 0, 2, 2, 1, 1, 1 }, 2, 3), x[1], "mean"), () => [R(2, 3), R2(2, 4)]),
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
        // torch.special: closed-form backward functions (differentiable again) and compositions.
        ["special_bessel"] = (x => x[0].I0() + x[0].I0e() + x[0].I1() + x[0].I1e() + (x[0] * 12).I1e() + (x[0] * 12).I0e(), () => [R(6) * 3]),
        ["special_bessel_second_order"] = (x => Autograd.Grad((x[0].I0() + x[0].I1e()).Sum(), x[0], createGraph: true), () => [R(5) * 2]),
        ["special_polygamma"] = (x => x[0].Polygamma(1) + x[0].Polygamma(3) + Autograd.Grad(x[0].Polygamma(2).Sum(), x[0], createGraph: true), () => [P(5) * 3]),
        ["special_tails"] = (x => x[0].LogNdtr() + (x[0] - 22).LogNdtr() + x[0].Erfcx() + (x[0] + 27).Erfcx() + x[1].Ndtri(), () => [R(5), Unit(5)]),
        ["special_xlog1py_entr_mvlgamma"] = (x => x[0].Xlog1py(x[1]) + x[1].Entr() + (x[1] + 2).Mvlgamma(3), () => [R(4), Unit(4)]),
        // torch.linalg solvers and functions of matrices.
        ["linalg_matrix_exp"] = (x => Linalg.MatrixExp(x[0]), () => [R(2, 3, 3)]),
        ["linalg_solvers"] = (x => Linalg.SolveTriangular(x[0] + Tensor.Eye(3, null, DType.Float64) * 3, x[1], upper: true)
            + Linalg.SolveTriangular(x[0] + Tensor.Eye(3, null, DType.Float64) * 3, x[1], upper: false, unitriangular: true)
            + Linalg.CholeskySolve(x[1], x[0].Tril() + Tensor.Eye(3, null, DType.Float64) * 3)
            + Linalg.Lstsq(x[2], x[1]).Solution, () => [R(3, 3), R(3, 2), R2(3, 3) + Tensor.Eye(3, null, DType.Float64) * 2]),
        ["linalg_lstsq_tall"] = (x => Linalg.Lstsq(x[0], x[1]).Solution, () => [R(5, 3), R(5, 2)]),
        ["linalg_cond_norms"] = (x => Linalg.Cond(x[0]) + Linalg.Cond(x[0], 1) + Linalg.MatrixNorm(x[0], 2).Sum() + Linalg.MatrixNorm(x[0], "nuc").Sum(),
            () => [R(2, 3, 3) + Tensor.Eye(3, null, DType.Float64) * 2]),
        ["linalg_multi_dot"] = (x => Linalg.MultiDot(x[0], x[1], x[2], x[3]), () => [R(3), R(3, 5), R2(5, 2), R(2)]),
        // Distribution families composed of recorded ops: log densities, entropies and KLs in every parameter (and the value).
        ["dist_continuous"] = (x => new KD.Cauchy(x[0], x[1]).LogProb(x[2]) + new KD.Gumbel(x[0], x[1]).LogProb(x[2]) + new KD.StudentT(x[1] + 1.5, x[0], x[1]).LogProb(x[2])
            + new KD.HalfNormal(x[1]).LogProb(x[3]) + new KD.HalfCauchy(x[1]).LogProb(x[3]) + new KD.Chi2(x[1] * 3).LogProb(x[3])
            + new KD.StudentT(x[1] + 2.5, x[0], x[1]).Entropy() + new KD.Gumbel(x[0], x[1]).Cdf(x[2]) + new KD.Cauchy(x[0], x[1]).Icdf(x[3] * 0.6), () => [R(4), P(4), R2(4), Unit(4) + 0.5]),
        ["dist_dirichlet"] = (x => new KD.Dirichlet(x[0]).LogProb(x[1].Softmax(-1)) + new KD.Dirichlet(x[0]).Entropy()
            + KD.Kl.Divergence(new KD.Dirichlet(x[0]), new KD.Dirichlet(x[0].Flip(-1) + 0.3)), () => [P(2, 3) * 2, R(4, 2, 3)]),
        ["dist_counts"] = (x => new KD.Geometric(x[0]).LogProb(Tensor.From(new double[] { 0, 2, 5 }, 3)) + new KD.Binomial(7, x[0]).LogProb(Tensor.From(new double[] { 1, 6, 3 }, 3))
            + new KD.Binomial(4, logits: x[1]).Entropy() + new KD.Geometric(logits: x[1]).Entropy(), () => [Unit(3), R(3)]),
        ["dist_mixture"] = (x => new KD.MixtureSameFamily(new KD.Categorical(logits: x[0]), new KD.Normal(x[1], x[2])).LogProb(x[3])
            + new KD.MixtureSameFamily(new KD.Categorical(logits: x[0]), new KD.Normal(x[1], x[2])).Variance.Sum(), () => [R(2, 3), R2(2, 3), P(2, 3), R(5, 2)]),
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
