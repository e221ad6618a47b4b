using System.Linq;
using Kiln.Distributions;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>
/// Sampling is random, so it is checked by its law over many seeded draws (means, variances, frequencies, supports), by
/// reproducibility for a seed, and by the reparameterized gradient; log densities and KL are golden cases (course.json).
/// </summary>
public class DistributionSamplingTests
{
    [Fact]
    public void NormalSamplesFollowTheirLawAndCarryTheReparameterizedGradient()
    {
        var loc = Tensor.From(new[] { -1f, 2f }, 2).RequiresGrad_();
        var scale = Tensor.From(new[] { 0.5f, 3f }, 2).RequiresGrad_();
        var normal = new Normal(loc, scale);
        var x = normal.RSample([20000], new Generator(5));
        Assert.Equal([20000, 2], x.ShapeArray);
        var mean = x.Mean(0).ToArray<float>();
        var std = x.Std([0]).ToArray<float>();
        Assert.InRange(mean[0], -1.02, -0.98);
        Assert.InRange(mean[1], 1.93, 2.07);
        Assert.InRange(std[0], 0.49, 0.51);
        Assert.InRange(std[1], 2.94, 3.06);
        x.Mean().Backward();
        Assert.All(loc.Grad!.ToArray<float>(), g => Assert.Equal(0.5f, g, 5));   // d mean / d loc: half the elements each
        Assert.Equal(normal.Sample([3], new Generator(9)).ToArray<float>(), normal.Sample([3], new Generator(9)).ToArray<float>());
        Assert.False(normal.Sample([3]).RequiresGrad);
    }

    [Fact]
    public void DiscreteSamplesFollowTheirProbabilities()
    {
        var probs = Tensor.From(new[] { 0.1f, 0.6f, 0.3f, 0.5f, 0.25f, 0.25f }, 2, 3);
        var categorical = new Categorical(probs: probs);
        var draws = categorical.Sample([4000, 2], new Generator(11));
        Assert.Equal([4000, 2, 2], draws.ShapeArray);
        Assert.Equal(DType.Int64, draws.DType);
        var values = draws.ToArray<long>();
        for (int row = 0; row < 2; row++)
            for (int c = 0; c < 3; c++)
            {
                double share = values.Where((v, i) => i % 2 == row && v == c).Count() / 8000.0;
                Assert.InRange(share, probs.ToArray2D<float>()[row, c] - 0.025, probs.ToArray2D<float>()[row, c] + 0.025);
            }
        var bernoulli = new Bernoulli(probs: Tensor.From(new[] { 0.2f, 0.9f }, 2));
        var flips = bernoulli.Sample([10000], new Generator(12)).Mean(0).ToArray<float>();
        Assert.InRange(flips[0], 0.18, 0.22);
        Assert.InRange(flips[1], 0.88, 0.92);
        var uniform = new Uniform(Tensor.From(new[] { -2f }, 1), Tensor.From(new[] { 3f }, 1));
        var u = uniform.Sample([5000], new Generator(13)).ToArray<float>();
        Assert.All(u, v => Assert.InRange(v, -2f, 2.99999f));
        Assert.InRange(u.Average(), 0.4, 0.6);
    }

    [Fact]
    public void MultivariateNormalSamplesHaveItsCovariance()
    {
        var cov = Tensor.From(new[] { 2.0, 0.6, 0.6, 1.0 }, 2, 2);
        var mvn = new MultivariateNormal(Tensor.From(new[] { 1.0, -1.0 }, 2), covarianceMatrix: cov);
        var x = mvn.Sample([40000], new Generator(14));
        var centred = x - x.Mean(0, keepDim: true);
        var empirical = centred.T.Matmul(centred) / 40000.0;
        Assert.True(empirical.AllClose(cov, 0.05, 0.05), empirical.ToString());
        Assert.True(mvn.CovarianceMatrix.AllClose(cov, 1e-12, 1e-12));
    }

    [Fact]
    public void ContinuousAndCountSamplesHaveTheirMoments()
    {
        var gamma = new Gamma(Tensor.From(new[] { 0.4, 3.0 }, 2), Tensor.From(new[] { 2.0, 0.5 }, 2));
        var g = gamma.Sample([20000], new Generator(21));
        SamplingLaws.AssertMoments(g, [0.2, 6.0], [0.1, 12.0], 0.04);
        var beta = new Beta(Tensor.From(new[] { 0.5, 2.0 }, 2), Tensor.From(new[] { 0.5, 5.0 }, 2));
        SamplingLaws.AssertMoments(beta.Sample([20000], new Generator(22)), [0.5, 2.0 / 7], [0.125, 10.0 / 392], 0.04);
        var poisson = new Poisson(Tensor.From(new[] { 0.7, 50.0 }, 2));
        var counts = poisson.Sample([20000], new Generator(23));
        Assert.All(counts.ToArray<double>(), c => Assert.Equal(System.Math.Floor(c), c));
        SamplingLaws.AssertMoments(counts, [0.7, 50.0], [0.7, 50.0], 0.04);
        SamplingLaws.AssertMoments(new Exponential(Tensor.From(new[] { 4.0 }, 1)).RSample([20000], new Generator(24)), [0.25], [0.0625], 0.04);
        SamplingLaws.AssertMoments(new Laplace(Tensor.From(new[] { 1.0 }, 1), Tensor.From(new[] { 2.0 }, 1)).RSample([20000], new Generator(25)), [1.0], [8.0], 0.05);
        Assert.StartsWith("Poisson: entropy has no closed form", Assert.Throws<KilnException>(() => poisson.Entropy()).Message);
        Assert.StartsWith("rsample: Poisson has no reparameterized sampler", Assert.Throws<KilnException>(() => poisson.RSample()).Message);
    }

    [Fact]
    public void IndependentAndTransformedDistributionsSampleThroughTheirBase()
    {
        var loc = Tensor.From(new[] { 0.3f, -0.8f, 1.2f }, 3).RequiresGrad_();
        var scale = Tensor.From(new[] { 0.5f, 1.0f, 0.2f }, 3);
        var diagonal = new Independent(new Normal(loc, scale), 1);
        Assert.Empty(diagonal.BatchShape);
        Assert.Equal([3], diagonal.EventShape);
        Assert.Equal([5, 3], diagonal.Sample([5], new Generator(21)).ShapeArray);
        Assert.Equal([5], diagonal.LogProb(diagonal.Sample([5], new Generator(21))).ShapeArray);

        // A tanh-squashed Gaussian policy (SAC's): samples inside (-1, 1), reparameterized, with tanh(loc) as their median.
        var squashed = new TransformedDistribution(diagonal, new TanhTransform());
        Assert.True(squashed.HasRSample);
        var actions = squashed.RSample([20000], new Generator(22));
        Assert.All(actions.ToArray<float>(), a => Assert.InRange(a, -1f, 1f));
        var sorted = actions.Sort(0).Values.Select(0, 10000).ToArray<float>();
        var expected = loc.Detach().Tanh().ToArray<float>();
        for (int i = 0; i < 3; i++) Assert.InRange(sorted[i], expected[i] - 0.02, expected[i] + 0.02);
        actions.Mean().Backward();
        Assert.NotNull(loc.Grad);

        var logNormal = new LogNormal(Tensor.From(new[] { 0.2f }, 1), Tensor.From(new[] { 0.4f }, 1));
        var draws = logNormal.Sample([40000], new Generator(23));
        Assert.InRange(draws.Mean().Item<float>(), logNormal.Mean.Item<float>() * 0.98, logNormal.Mean.Item<float>() * 1.02);
        Assert.InRange(draws.Var().Item<float>(), logNormal.Variance.Item<float>() * 0.95, logNormal.Variance.Item<float>() * 1.05);
    }

    [Fact]
    public void BadInputsNameTheDistribution()
    {
        Assert.StartsWith("Bernoulli: either probs or logits must be specified, but not both", Assert.Throws<KilnException>(() => new Bernoulli()).Message);
        var normals = new Normal(Tensor.Zeros(2, 3), Tensor.Ones(2, 3));
        Assert.StartsWith("Independent: expected 0 <= reinterpreted_batch_ndims <= len(base_distribution.batch_shape) = 2, actual 3",
            Assert.Throws<KilnException>(() => new Independent(normals, 3)).Message);
        Assert.StartsWith("kl_divergence: Independent distributions reinterpret 1 and 2 batch dims",
            Assert.Throws<KilnException>(() => Kl.Divergence(new Independent(normals, 1), new Independent(normals, 2))).Message);
        Assert.StartsWith("mean: TransformedDistribution has no closed-form mean",
            Assert.Throws<KilnException>(() => new TransformedDistribution(normals, new TanhTransform()).Mean).Message);
        Assert.StartsWith("Categorical: either probs or logits", Assert.Throws<KilnException>(() => new Categorical(Tensor.Ones(3), Tensor.Ones(3))).Message);
        Assert.StartsWith("Categorical: log_prob expects integer category indices", Assert.Throws<KilnException>(() => new Categorical(Tensor.Ones(3)).LogProb(Tensor.Ones(2))).Message);
        Assert.StartsWith("rsample: Categorical has no reparameterized sampler", Assert.Throws<KilnException>(() => new Categorical(Tensor.Ones(3)).RSample()).Message);
        Assert.StartsWith("MultivariateNormal: the matrix [2, 2] must be [..., 3, 3]", Assert.Throws<KilnException>(() => new MultivariateNormal(Tensor.Zeros(3), Tensor.Ones(2, 2))).Message);
        Assert.StartsWith("kl_divergence: no closed form for KL(Normal ‖ Cauchy)",
            Assert.Throws<KilnException>(() => Kl.Divergence(new Normal(0, 1), new Cauchy(Tensor.Zeros(1), Tensor.Ones(1)))).Message);
        Assert.StartsWith("Normal: parameters must be floating point", Assert.Throws<KilnException>(() => new Normal(Tensor.From(new long[] { 1 }, 1), Tensor.Ones(1))).Message);
    }
}
