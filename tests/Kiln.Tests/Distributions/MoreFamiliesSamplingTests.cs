using System;
using System.Linq;
using Kiln.Distributions;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>
/// The samplers of Cauchy, HalfNormal, HalfCauchy, Gumbel, StudentT, Chi2, Dirichlet, Geometric, Binomial and
/// MixtureSameFamily, checked by their laws over many seeded draws (their densities, moments and KLs are golden cases in
/// course.json), the reparameterized gradients where the family has them, and the refusals PyTorch makes too.
/// </summary>
public class MoreFamiliesSamplingTests
{
    static Tensor T(params double[] values) => Tensor.From(values, values.Length);

    [Fact]
    public void HeavyTailedDrawsFollowTheirCdfsAndCarryGradients()
    {
        var loc = T(1.0, -2.0).RequiresGrad_();
        var scale = T(0.5, 2.0).RequiresGrad_();
        var cauchy = new Cauchy(loc, scale);
        var x = cauchy.RSample([20000], new Generator(31));
        SamplingLaws.AssertCdf(cauchy, x.Detach(), [1.0, -4.0], 0.015);             // its median, and a quartile (-2 - 2)
        SamplingLaws.AssertCdf(cauchy, x.Detach(), [2.0, 0.0], 0.015);
        x.Sum().Backward();
        Assert.Equal([20000.0, 20000.0], loc.Grad!.ToArray<double>());  // x = loc + scale·t: d/dloc = 1 per draw

        var half = new HalfCauchy(T(1.5, 0.3));
        var h = half.Sample([20000], new Generator(32));
        Assert.All(h.ToArray<double>(), v => Assert.True(v >= 0));
        SamplingLaws.AssertCdf(half, h, [1.5, 0.3], 0.015);                          // the median of |Cauchy(0, s)| is s

        var halfNormal = new HalfNormal(T(1.0, 3.0));
        SamplingLaws.AssertMoments(halfNormal.Sample([20000], new Generator(33)), halfNormal.Mean.ToArray<double>(), halfNormal.Variance.ToArray<double>(), 0.03);

        var t = new StudentT(T(5.0, 12.0), T(1.0, -1.0), T(2.0, 0.5));
        SamplingLaws.AssertMoments(t.Sample([40000], new Generator(34)), [1.0, -1.0], [4.0 * 5 / 3, 0.25 * 12 / 10], 0.05);
        Assert.True(t.HasRSample);
    }

    [Fact]
    public void GumbelChi2AndDirichletDrawsHaveTheirMoments()
    {
        var gumbel = new Gumbel(T(0.5, -1.0), T(1.0, 2.5));
        SamplingLaws.AssertMoments(gumbel.RSample([20000], new Generator(41)), gumbel.Mean.ToArray<double>(), gumbel.Variance.ToArray<double>(), 0.04);
        var chi2 = new Chi2(T(1.0, 7.0));
        SamplingLaws.AssertMoments(chi2.Sample([20000], new Generator(42)), [1.0, 7.0], [2.0, 14.0], 0.04);

        var alpha = Tensor.From(new[] { 0.5, 2.0, 4.0, 1.0, 1.0, 1.0 }, 2, 3);
        var dirichlet = new Dirichlet(alpha);
        var p = dirichlet.Sample([20000], new Generator(43));
        Assert.Equal([20000, 2, 3], p.ShapeArray);
        Assert.True(p.Sum(-1).AllClose(Tensor.OnesLike(p.Sum(-1)), 1e-12, 1e-12));   // on the simplex
        SamplingLaws.AssertMoments(p.Reshape(20000, 6), dirichlet.Mean.Reshape(6).ToArray<double>(), dirichlet.Variance.Reshape(6).ToArray<double>(), 0.04);
        Assert.Equal([2], dirichlet.BatchShape);
        Assert.Equal([3], dirichlet.EventShape);
    }

    [Fact]
    public void CountDrawsHaveTheirMoments()
    {
        var geometric = new Geometric(T(0.2, 0.75));
        var g = geometric.Sample([20000], new Generator(51));
        Assert.All(g.ToArray<double>(), v => Assert.Equal(Math.Floor(v), v));
        SamplingLaws.AssertMoments(g, [4.0, 1.0 / 3], [20.0, (1.0 / 3) / 0.75], 0.05);

        // Small and large counts, rare and common successes (the large p draws its failures), and n = 0.
        var binomial = new Binomial(T(10, 3000, 200000, 0), T(0.3, 0.01, 0.9, 0.5));
        var b = binomial.Sample([4000], new Generator(52));
        Assert.All(b.ToArray<double>(), v => Assert.Equal(Math.Floor(v), v));
        var values = b.ToArray2D<double>();
        for (int r = 0; r < 4000; r++)
        {
            Assert.InRange(values[r, 0], 0, 10);
            Assert.Equal(0.0, values[r, 3]);
        }
        SamplingLaws.AssertMoments(b.Narrow(1, 0, 3), [3.0, 30.0, 180000.0], [2.1, 29.7, 18000.0], 0.05);
        Assert.Equal(b.ToArray<double>(), binomial.Sample([4000], new Generator(52)).ToArray<double>());   // seeded
    }

    [Fact]
    public void MixtureDrawsComeFromTheirComponents()
    {
        // Two well separated components per row, weighted 0.2 / 0.8 and 0.5 / 0.5.
        var weights = Tensor.From(new[] { 0.2, 0.8, 0.5, 0.5 }, 2, 2);
        var loc = Tensor.From(new[] { -10.0, 10.0, 0.0, 100.0 }, 2, 2);
        var mixture = new MixtureSameFamily(new Categorical(probs: weights), new Normal(loc, Tensor.OnesLike(loc)));
        var x = mixture.Sample([10000], new Generator(61));
        Assert.Equal([10000, 2], x.ShapeArray);
        var v = x.ToArray2D<double>();
        double low = Enumerable.Range(0, 10000).Count(r => v[r, 0] < 0) / 10000.0, high = Enumerable.Range(0, 10000).Count(r => v[r, 1] > 50) / 10000.0;
        Assert.InRange(low, 0.18, 0.22);
        Assert.InRange(high, 0.48, 0.52);
        SamplingLaws.AssertMoments(x, mixture.Mean.ToArray<double>(), mixture.Variance.ToArray<double>(), 0.04);

        // Event-shaped components: each draw is one whole component's vector.
        var vectors = new MixtureSameFamily(new Categorical(probs: T(0.5, 0.5)),
            new Independent(new Normal(Tensor.From(new[] { -5.0, -5.0, 5.0, 5.0 }, 2, 2), Tensor.Full([2, 2], 0.01, DType.Float64)), 1));
        var pairs = vectors.Sample([200], new Generator(62)).ToArray2D<double>();
        for (int r = 0; r < 200; r++) Assert.True(Math.Sign(pairs[r, 0]) == Math.Sign(pairs[r, 1]), $"draw {r} mixes components: {pairs[r, 0]}, {pairs[r, 1]}");
    }

    [Fact]
    public void RefusalsNameTheFamilyAndTheShapes()
    {
        var e = Assert.Throws<KilnException>(() => new MixtureSameFamily(new Categorical(probs: T(0.5, 0.5)), new Normal(T(0, 1, 2), T(1, 1, 1))));
        Assert.Contains("the mixture's number of categories (2) does not match the components' rightmost batch dim (3)", e.Message);
        e = Assert.Throws<KilnException>(() => new MixtureSameFamily(new Categorical(probs: Tensor.Ones(3, 2)), new Normal(Tensor.Zeros(2, 2), Tensor.Ones(2, 2))));
        Assert.Contains("the mixture's batch shape [3] does not match the components' [2]", e.Message);
        e = Assert.Throws<KilnException>(() => new MixtureSameFamily(new Categorical(probs: T(1)), new Normal(Tensor.Scalar(0.0), Tensor.Scalar(1.0))));
        Assert.Contains("needs a batch dim for the components", e.Message);
        e = Assert.Throws<KilnException>(() => new MixtureSameFamily(new Categorical(probs: T(0.5, 0.5)), new Normal(T(0, 1), T(1, 1))).Entropy());
        Assert.Contains("MixtureSameFamily.entropy", e.Message);
        e = Assert.Throws<KilnException>(() => new Binomial(T(3, 4), T(0.5, 0.5)).Entropy());
        Assert.Contains("inhomogeneous total_count", e.Message);
        e = Assert.Throws<KilnException>(() => new Beta(T(1), T(1)).Cdf(T(0.5)));
        Assert.Contains("cdf: Beta has no closed-form cumulative distribution function", e.Message);
        e = Assert.Throws<KilnException>(() => new Geometric(T(0.5), T(0.0)));
        Assert.Contains("Geometric: either probs or logits must be specified, but not both", e.Message);
        e = Assert.Throws<KilnException>(() => new Dirichlet(Tensor.Scalar(1.0)));
        Assert.Contains("Dirichlet: concentration must have at least one dimension", e.Message);
        e = Assert.Throws<KilnException>(() => new StudentT(Tensor.From(new long[] { 3 }, 1)));
        Assert.Contains("StudentT: parameters must be floating point", e.Message);
    }

    [Fact]
    public void IcdfInvertsCdf()
    {
        var p = T(0.01, 0.3, 0.5, 0.77, 0.999);
        Distribution[] families =
        [
            new Normal(Tensor.Full([5], 0.5, DType.Float64), Tensor.Full([5], 2.0, DType.Float64)),
            new Cauchy(Tensor.Full([5], -1.0, DType.Float64), Tensor.Full([5], 0.3, DType.Float64)),
            new Gumbel(Tensor.Full([5], 2.0, DType.Float64), Tensor.Full([5], 1.5, DType.Float64)),
            new Laplace(Tensor.Full([5], 0.0, DType.Float64), Tensor.Full([5], 4.0, DType.Float64)),
            new Exponential(Tensor.Full([5], 3.0, DType.Float64)),
            new Uniform(Tensor.Full([5], -1.0, DType.Float64), Tensor.Full([5], 7.0, DType.Float64)),
            new HalfNormal(Tensor.Full([5], 2.0, DType.Float64)),
            new HalfCauchy(Tensor.Full([5], 0.7, DType.Float64)),
        ];
        foreach (var d in families)
        {
            var back = d.Cdf(d.Icdf(p)).ToArray<double>();
            for (int i = 0; i < 5; i++) Assert.True(Math.Abs(back[i] - p.ToArray<double>()[i]) < 1e-9, $"{d.GetType().Name}: cdf(icdf({p.ToArray<double>()[i]})) = {back[i]}");
        }
    }
}

/// <summary>One-hot categorical and multinomial draws: their supports and frequencies.</summary>
public class CountVectorSamplingTests
{
    [Fact]
    public void OneHotAndMultinomialDrawsFollowTheirProbabilities()
    {
        var probs = Tensor.From(new[] { 0.1, 0.6, 0.3 }, 3);
        var hot = new OneHotCategorical(probs).Sample([6000], new Generator(71));
        Assert.Equal([6000, 3], hot.ShapeArray);
        Assert.True(hot.Sum(-1).AllClose(Tensor.Ones([6000], DType.Float64), 0, 0));   // exactly one 1 per draw
        var share = hot.Mean(0).ToArray<double>();
        for (int k = 0; k < 3; k++) Assert.InRange(share[k], probs.ToArray<double>()[k] - 0.025, probs.ToArray<double>()[k] + 0.025);

        var multinomial = new Multinomial(10, Tensor.From(new[] { 0.2, 0.5, 0.3, 0.0, 0.8, 0.2 }, 2, 3));
        var counts = multinomial.Sample([4000], new Generator(72));
        Assert.Equal([4000, 2, 3], counts.ShapeArray);
        Assert.True(counts.Sum(-1).AllClose(Tensor.Full([4000, 2], 10.0, DType.Float64), 0, 0));   // n draws each
        Assert.All(counts.Narrow(2, 0, 1).Narrow(1, 1, 1).ToArray<double>(), v => Assert.Equal(0.0, v));   // p = 0 never drawn
        var mean = counts.Mean(0).ToArray<double>();
        var want = multinomial.Mean.ToArray<double>();
        for (int k = 0; k < 6; k++) Assert.InRange(mean[k], want[k] - 0.1, want[k] + 0.1);
        Assert.Equal(0, new Multinomial(0, probs).Sample([5]).Sum().Item<double>());
        Assert.Contains("total_count must be non-negative", Assert.Throws<KilnException>(() => new Multinomial(-1, probs)).Message);
    }
}
