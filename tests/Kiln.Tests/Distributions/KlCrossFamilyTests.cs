using System;
using Kiln.Distributions;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>
/// The KL pairs across families (their values are golden cases in course.json): float64 finite differences of every
/// finite formula, the support edges, and the pairs that are refused.
/// </summary>
public class KlCrossFamilyTests
{
    static Tensor T(params double[] values) => Tensor.From(values, values.Length);

    static Tensor Leaf(params double[] values) => T(values).RequiresGrad_();

    [Fact]
    public void FiniteDivergencesPassFiniteDifferencesInFloat64()
    {
        var checks = new Func<Tensor[], Tensor>[]
        {
            a => Kl.Divergence(new Beta(a[0], a[1]), new Normal(a[2], a[3])),
            a => Kl.Divergence(new Beta(a[0], a[1]), new Gamma(a[3], a[0])),
            a => Kl.Divergence(new Beta(a[0], a[1]), new ContinuousBernoulli(logits: a[2])),
            a => Kl.Divergence(new Gamma(a[0], a[1]), new Gumbel(a[2], a[3])),
            a => Kl.Divergence(new Gamma(a[0], a[1]), new Normal(a[2], a[3])),
            a => Kl.Divergence(new Exponential(a[0]), new Gumbel(a[2], a[3])),
            a => Kl.Divergence(new Exponential(a[1]), new Gamma(a[0], a[3])),
            a => Kl.Divergence(new Normal(a[2], a[0]), new Laplace(a[3], a[1])),
            a => Kl.Divergence(new Normal(a[2], a[0]), new Gumbel(a[3], a[1])),
            a => Kl.Divergence(new Laplace(a[2], a[0]), new Normal(a[3], a[1])),
            a => Kl.Divergence(new Gumbel(a[2], a[0]), new Normal(a[3], a[1])),
            a => Kl.Divergence(new Pareto(a[0], a[1] + 2.5), new Normal(a[2], a[3])),
            a => Kl.Divergence(new Pareto(a[0], a[1] + 1.5), new Gamma(a[1], a[3])),
            a => Kl.Divergence(new Uniform(a[0] * 0.1, a[0] * 0.1 + a[3] * 0.3), new Beta(a[1], a[0])),
            a => Kl.Divergence(new Uniform(a[2], a[2] + a[3]), new Gumbel(a[0], a[1])),
            a => Kl.Divergence(new ContinuousBernoulli(logits: a[2]), new Normal(a[3], a[0])),
            a => Kl.Divergence(new ContinuousBernoulli(logits: a[2]), new ContinuousBernoulli(logits: a[3])),
        };
        foreach (var f in checks)
            Assert.True(Autograd.GradCheck(f, [Leaf(0.7, 2.0), Leaf(1.5, 0.9), Leaf(0.3, -0.8), Leaf(1.1, 0.6)]));
    }

    [Fact]
    public void SupportEdgesGiveInfinityOnlyWhereQHasNoDensity()
    {
        // A uniform on [0, 0.5] lies inside a continuous Bernoulli's support: finite, the limit of [ε, 0.5] (PyTorch marks
        // intervals touching 0 or 1 infinite, and takes 0·log 0 as NaN for a Beta).
        var cb = new ContinuousBernoulli(logits: T(0.4));
        double atZero = Kl.Divergence(new Uniform(T(0.0), T(0.5)), cb).Item<double>();
        double nearZero = Kl.Divergence(new Uniform(T(1e-9), T(0.5)), cb).Item<double>();
        Assert.True(double.IsFinite(atZero));
        Assert.Equal(nearZero, atZero, 6);
        double beta = Kl.Divergence(new Uniform(T(0.0), T(0.5)), new Beta(T(1.5), T(2.0))).Item<double>();
        Assert.True(double.IsFinite(beta));
        Assert.Equal(double.PositiveInfinity, Kl.Divergence(new Uniform(T(-0.1), T(0.5)), cb).Item<double>());
        Assert.Equal(double.PositiveInfinity, Kl.Divergence(new ContinuousBernoulli(logits: T(0.4)), new Uniform(T(0.1), T(2.0))).Item<double>());
        Assert.True(double.IsFinite(Kl.Divergence(cb, new Uniform(T(0.0), T(1.0))).Item<double>()));
        // Pareto's moments: α ≤ 1 has no mean, α ≤ 2 no variance.
        var kl = Kl.Divergence(new Pareto(T(1.0, 1.0, 1.0), T(0.9, 1.5, 2.5)), new Normal(T(0.0, 0.0, 0.0), T(1.0, 1.0, 1.0))).ToArray<double>();
        Assert.Equal(double.PositiveInfinity, kl[0]);
        Assert.Equal(double.PositiveInfinity, kl[1]);
        Assert.True(double.IsFinite(kl[2]));
    }

    [Fact]
    public void TransformedPairsNeedTheSameTransforms()
    {
        var a = new LogNormal(T(0.2), T(0.7));
        var b = new LogNormal(T(-0.4), T(1.3));
        Assert.Equal(Kl.Divergence(new Normal(T(0.2), T(0.7)), new Normal(T(-0.4), T(1.3))).Item<double>(), Kl.Divergence(a, b).Item<double>(), 14);
        var affine = new TransformedDistribution(new Normal(T(0.2), T(0.7)), new AffineTransform(T(1.0), T(2.0)));
        var sameAffine = new TransformedDistribution(new Normal(T(0.0), T(1.0)), new AffineTransform(T(1.0), T(2.0)));
        var otherAffine = new TransformedDistribution(new Normal(T(0.0), T(1.0)), new AffineTransform(T(1.0), T(3.0)));
        Assert.True(double.IsFinite(Kl.Divergence(affine, sameAffine).Item<double>()));
        var e = Assert.Throws<KilnException>(() => Kl.Divergence(affine, otherAffine));
        Assert.Contains("different transforms", e.Message);
        Assert.Equal(KilnErrorKind.Unsupported, e.Kind);
    }

    [Fact]
    public void PairsWithoutAClosedFormAreRefusedByName()
    {
        var binomial = Assert.Throws<KilnException>(() => Kl.Divergence(new Binomial(3, probs: T(0.5)), new Binomial(5, probs: T(0.5))));
        Assert.Contains("total_count", binomial.Message);
        var none = Assert.Throws<KilnException>(() => Kl.Divergence(new Cauchy(T(0.0), T(1.0)), new Normal(T(0.0), T(1.0))));
        Assert.Contains("KL(Cauchy ‖ Normal)", none.Message);
        var reverse = Assert.Throws<KilnException>(() => Kl.Divergence(new ContinuousBernoulli(logits: T(0.0)), new Beta(T(1.0), T(1.0))));
        Assert.Contains("KL(ContinuousBernoulli ‖ Beta)", reverse.Message);
    }
}
