using System;
using Kiln.Distributions;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>
/// The low-rank-plus-diagonal normal, the precision-parameterized normal, Wishart and LKJCholesky: draws with their
/// moments, the capacitance forms against the full-covariance normal, float64 finite differences, refusals (densities,
/// matrices, moments and KL pairs are golden cases in course.json).
/// </summary>
public class StructuredCovarianceTests
{
    static Tensor T(params double[] values) => Tensor.From(values, values.Length);

    static Tensor M(int rows, int cols, params double[] values) => Tensor.From(values, rows, cols);

    [Fact]
    public void LowRankDrawsHaveTheCovarianceAndCarryGradients()
    {
        var loc = T(1.0, -2.0, 0.5).RequiresGrad_();
        var w = M(3, 1, 1.0, 0.5, -1.5).RequiresGrad_();
        var d = T(0.2, 1.0, 0.5).RequiresGrad_();
        var dist = new LowRankMultivariateNormal(loc, w, d);
        var draws = dist.RSample([40000], new Generator(11));
        Assert.Equal(new[] { 40000, 3 }, draws.ShapeArray);
        using (Autograd.NoGrad())
        {
            // Σ = W·Wᵀ + diag(D): variances 1.2, 1.25, 2.75; covariances w_i·w_j.
            SamplingLaws.AssertMoments(draws, [1.0, -2.0, 0.5], [1.2, 1.25, 2.75], 0.03);
            using var centred = draws - loc;
            using var cross01 = (centred.Select(1, 0) * centred.Select(1, 1)).Mean();
            using var cross02 = (centred.Select(1, 0) * centred.Select(1, 2)).Mean();
            Assert.InRange(cross01.Item<double>(), 0.5 - 0.04, 0.5 + 0.04);
            Assert.InRange(cross02.Item<double>(), -1.5 - 0.06, -1.5 + 0.06);
        }
        draws.Sum().Backward();
        Assert.Equal(new[] { 40000.0, 40000.0, 40000.0 }, loc.Grad!.ToArray<double>());
        Assert.All(w.Grad!.ToArray<double>(), g => Assert.True(double.IsFinite(g)));
        Assert.All(d.Grad!.ToArray<double>(), g => Assert.True(double.IsFinite(g)));
    }

    [Fact]
    public void TheCapacitanceFormsEqualTheFullCovarianceNormal()
    {
        using var loc = Tensor.Randn([2, 5], DType.Float64, new Generator(3));
        using var w = Tensor.Randn([5, 2], DType.Float64, new Generator(4));
        using var d = Tensor.Rand([5], DType.Float64, new Generator(5)) + 0.3;
        using var x = Tensor.Randn([4, 2, 5], DType.Float64, new Generator(6));
        var low = new LowRankMultivariateNormal(loc, w, d);
        var full = new MultivariateNormal(loc, covarianceMatrix: low.CovarianceMatrix);
        Close(full.LogProb(x), low.LogProb(x));
        Close(full.Entropy(), low.Entropy());
        Close(full.ScaleTril, low.ScaleTril);
        using var eye = Tensor.Eye(5, 5, DType.Float64);
        Close(eye.Expand([2, 5, 5]), low.CovarianceMatrix.Matmul(low.PrecisionMatrix));
        var precise = new MultivariateNormal(loc, precisionMatrix: low.PrecisionMatrix);
        Close(full.LogProb(x), precise.LogProb(x));
        Close(low.CovarianceMatrix, precise.CovarianceMatrix);
    }

    static void Close(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.ShapeArray, actual.ShapeArray);
        var e = expected.Contiguous().ToArray<double>();
        var a = actual.Contiguous().ToArray<double>();
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-10 * Math.Max(1, Math.Abs(e[i])), $"[{i}] {e[i]} vs {a[i]}");
    }

    [Fact]
    public void LogDensitiesPassFiniteDifferencesInFloat64()
    {
        var x = M(2, 3, 0.3, -1.0, 2.0, 1.5, 0.2, -0.7);
        Assert.True(Autograd.GradCheck(a => new LowRankMultivariateNormal(a[0], a[1], a[2]).LogProb(x),
            [T(0.1, -0.5, 1.0).RequiresGrad_(), M(3, 2, 0.5, -1.0, 1.2, 0.3, -0.4, 0.8).RequiresGrad_(), T(0.4, 1.1, 0.7).RequiresGrad_()]));
        Assert.True(Autograd.GradCheck(a => new LowRankMultivariateNormal(a[0], a[1], a[2]).Entropy(),
            [T(0.1, -0.5, 1.0).RequiresGrad_(), M(3, 1, 0.5, -1.0, 1.2).RequiresGrad_(), T(0.4, 1.1, 0.7).RequiresGrad_()]));
        var spd = M(3, 3, 2.0, 0.3, -0.2, 0.3, 1.5, 0.4, -0.2, 0.4, 1.0);
        Assert.True(Autograd.GradCheck(a => new MultivariateNormal(a[0], precisionMatrix: a[1].Matmul(a[1].T) + spd).LogProb(x),
            [T(0.1, -0.5, 1.0).RequiresGrad_(), M(3, 3, 0.5, 0, 0, 0.2, 0.7, 0, -0.3, 0.1, 0.9).RequiresGrad_()]));
    }

    [Fact]
    public void WishartDrawsHaveTheirMomentsAndCarryGradientsToTheScale()
    {
        var l = M(2, 2, 1.0, 0.0, 0.5, 0.8).RequiresGrad_();
        var w = new Wishart(5.0, scaleTril: l);
        var draws = w.RSample([20000], new Generator(21));
        Assert.Equal(new[] { 20000, 2, 2 }, draws.ShapeArray);
        using (Autograd.NoGrad())
        {
            // Σ = [[1, 0.5], [0.5, 0.89]]: mean νΣ, Var(Xᵢⱼ) = ν(Σᵢⱼ² + ΣᵢᵢΣⱼⱼ).
            using var flat = draws.Reshape([20000, 4]);
            SamplingLaws.AssertMoments(flat, [5.0, 2.5, 2.5, 4.45], [10.0, 5.7, 5.7, 7.921], 0.03);
            using var sym = draws - draws.Transpose(-2, -1);
            Assert.Equal(0.0, sym.Abs().Max().Item<double>(), 12);
        }
        draws.Sum().Backward();
        Assert.All(l.Grad!.ToArray<double>(), g => Assert.True(double.IsFinite(g)));
        Assert.NotEqual(0.0, l.Grad!.ToArray<double>()[0]);
        // ν moves the chi-squared draws: E[X] = νΣ, so d/dν of the mean draw's trace is tr Σ = 1.89.
        var df = T(5.0)[0].RequiresGrad_();
        using var byDf = new Wishart(df, scaleTril: l.Detach()).RSample([20000], new Generator(22));
        using var trace = byDf.Diagonal(0, -2, -1).Sum(-1).Mean();
        trace.Backward();
        Assert.InRange(df.Grad!.Item<double>(), 1.89 - 0.08, 1.89 + 0.08);
        using (Autograd.NoGrad()) Assert.Equal(new[] { 3, 2, 2 }, new Wishart(df, scaleTril: l).Sample([3], new Generator(2)).ShapeArray);
    }

    [Fact]
    public void LkjDrawsAreCorrelationFactorsWithTheirMarginals()
    {
        // d = 4, η = 2: each correlation Lᵢ·Lⱼ is Beta(a, a) on (-1, 1) with a = η - 1 + d/2 = 3, variance 1/(2a + 1).
        var lkj = new LKJCholesky(4, T(2.0)[0]);
        using var draws = lkj.Sample([20000], new Generator(5));
        Assert.Equal(new[] { 20000, 4, 4 }, draws.ShapeArray);
        using var upper = draws.Triu(1);
        Assert.Equal(0.0, upper.Abs().Max().Item<double>());
        using var rowNorms = draws.Norm(2, [-1]);
        using var off = rowNorms - 1.0;
        Assert.True(off.Abs().Max().Item<double>() < 1e-12);
        using var diagonal = draws.Diagonal(0, -2, -1);
        Assert.True(diagonal.Min().Item<double>() > 0);
        using var correlation = draws.Matmul(draws.Transpose(-2, -1));
        // Every pair, the rows the onion method adds last included (PyTorch's sampler spreads those too wide).
        var entries = new Tensor[6];
        int e = 0;
        for (int i = 1; i < 4; i++)
            for (int j = 0; j < i; j++) entries[e++] = correlation.Select(1, i).Select(1, j);
        using var pairs = Tensor.Stack(entries, 1);
        SamplingLaws.AssertMoments(pairs, new double[6], [1.0 / 7, 1.0 / 7, 1.0 / 7, 1.0 / 7, 1.0 / 7, 1.0 / 7], 0.05);
        Assert.Throws<KilnException>(() => lkj.Entropy());
        var small = Assert.Throws<KilnException>(() => new LKJCholesky(1));
        Assert.Contains("dim=1", small.Message);
    }

    [Fact]
    public void WishartAndLkjLogDensitiesPassFiniteDifferencesInFloat64()
    {
        var x = M(2, 2, 2.0, 0.3, 0.3, 1.5);
        Assert.True(Autograd.GradCheck(a => new Wishart(a[0], scaleTril: a[1].Tril()).LogProb(x),
            [T(3.5).RequiresGrad_(), M(2, 2, 1.2, 0.0, 0.4, 0.9).RequiresGrad_()]));
        Assert.True(Autograd.GradCheck(a => new Wishart(a[0], scaleTril: a[1].Tril()).Entropy(),
            [T(3.5).RequiresGrad_(), M(2, 2, 1.2, 0.0, 0.4, 0.9).RequiresGrad_()]));
        var factor = M(3, 3, 1.0, 0, 0, 0.6, 0.8, 0, -0.48, 0.36, 0.8);
        Assert.True(Autograd.GradCheck(a => new LKJCholesky(3, a[0]).LogProb(factor), [T(0.7, 2.5).RequiresGrad_().Reshape([2, 1, 1])[.., 0, 0]]));
    }

    [Fact]
    public void ShapesAndParameterChoicesAreRefusedByName()
    {
        var shapes = Assert.Throws<KilnException>(() => new LowRankMultivariateNormal(T(0, 0, 0), M(2, 1, 1, 1), T(1, 1, 1)));
        Assert.Contains("cov_factor [2, 1]", shapes.Message);
        Assert.Contains("LowRankMultivariateNormal", shapes.Message);
        var diag = Assert.Throws<KilnException>(() => new LowRankMultivariateNormal(T(0, 0, 0), M(3, 1, 1, 1, 1), T(1, 1)));
        Assert.Contains("cov_diag [2]", diag.Message);
        var eye = Tensor.Eye(3, 3, DType.Float64);
        var two = Assert.Throws<KilnException>(() => new MultivariateNormal(T(0, 0, 0), covarianceMatrix: eye, precisionMatrix: eye));
        Assert.Contains("exactly one of covariance_matrix, precision_matrix or scale_tril", two.Message);
        var none = Assert.Throws<KilnException>(() => new MultivariateNormal(T(0, 0, 0)));
        Assert.Contains("got none", none.Message);
        var wishartDf = Assert.Throws<KilnException>(() => new Wishart(1.5, covarianceMatrix: eye));
        Assert.Contains("df must be greater than p - 1 = 2", wishartDf.Message);
        var wishartShape = Assert.Throws<KilnException>(() => new Wishart(4.0, scaleTril: M(2, 3, 1, 0, 0, 1, 1, 0)));
        Assert.Contains("[2, 3]", wishartShape.Message);
        var kl = Assert.Throws<KilnException>(() => Kl.Divergence(new LowRankMultivariateNormal(T(0, 0), M(2, 1, 1, 1), T(1, 1)),
            new MultivariateNormal(T(0, 0, 0), covarianceMatrix: eye)));
        Assert.Contains("different sizes", kl.Message);
    }
}
