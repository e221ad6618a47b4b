using System;
using System.Linq;
using Kiln.Distributions;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>
/// The samplers of Weibull, Pareto, Kumaraswamy, the relaxed (Concrete) Bernoulli and one-hot categorical, the negative
/// binomial, the F distribution, the logistic normal, von Mises and the continuous Bernoulli, checked by their laws over seeded draws (their densities and
/// moments are golden cases in course.json); the reparameterized gradients; the refusals PyTorch makes too.
/// </summary>
public class RelaxedAndTransformedSamplingTests
{
    static Tensor T(params double[] values) => Tensor.From(values, values.Length);

    [Fact]
    public void TransformedFamiliesDrawWithTheirMomentsAndCarryGradients()
    {
        var scale = T(1.5, 0.4).RequiresGrad_();
        var weibull = new Weibull(scale, T(2.0, 0.9));
        var w = weibull.RSample([40000], new Generator(61));
        Assert.All(w.Detach().ToArray<double>(), v => Assert.True(v > 0));
        SamplingLaws.AssertMoments(w.Detach(), weibull.Mean.ToArray<double>(), weibull.Variance.ToArray<double>(), 0.04);
        w.Mean().Backward();   // x = scale·E^(1/k): d mean/d scale = E[x]/scale/2 (two columns share the mean)
        var grad = scale.Grad!.ToArray<double>();
        var means = weibull.Mean.ToArray<double>();
        Assert.Equal(means[0] / 1.5 / 2, grad[0], 0.03);
        Assert.Equal(means[1] / 0.4 / 2, grad[1], 0.03);

        var pareto = new Pareto(T(2.0, 1.0), T(5.0, 6.0));
        var p = pareto.Sample([40000], new Generator(62));
        Assert.All(p.ToArray2D<double>().Cast<double>().Select((v, i) => (v, i)), e => Assert.True(e.v >= (e.i % 2 == 0 ? 2.0 : 1.0)));
        SamplingLaws.AssertMoments(p, pareto.Mean.ToArray<double>(), pareto.Variance.ToArray<double>(), 0.06);

        var kumaraswamy = new Kumaraswamy(T(0.7, 3.0), T(2.0, 0.6));
        var k = kumaraswamy.Sample([40000], new Generator(63));
        Assert.All(k.ToArray<double>(), v => Assert.InRange(v, 0, 1));
        SamplingLaws.AssertMoments(k, kumaraswamy.Mean.ToArray<double>(), kumaraswamy.Variance.ToArray<double>(), 0.03);

        var logistic = new LogisticNormal(Tensor.From(new[] { 0.3, -0.5, 1.0 }, 1, 3), Tensor.From(new[] { 0.5, 1.0, 0.2 }, 1, 3));
        var s = logistic.RSample([5000], new Generator(64));
        Assert.Equal([5000, 1, 4], s.ShapeArray);
        Assert.Equal([1], logistic.BatchShape);
        Assert.Equal([4], logistic.EventShape);
        var sums = s.Sum(-1).ToArray<double>();
        Assert.All(sums, v => Assert.Equal(1.0, v, 1e-12));
        Assert.All(s.ToArray<double>(), v => Assert.True(v > 0));
        // The stick-breaking map sends the normals' means to the sample's median shares: draws pulled back are normal.
        var back = new StickBreakingTransform().Inverse(s);
        SamplingLaws.AssertMoments(back.Reshape(5000, 3), [0.3, -0.5, 1.0], [0.25, 1.0, 0.04], 0.06);
    }

    [Fact]
    public void RelaxedDrawsApproachHardOnesAsTheTemperatureFalls()
    {
        var logits = T(0.4, -1.2);
        var warm = new RelaxedBernoulli(T(5.0)[0], logits: logits).RSample([20000], new Generator(71));
        var cold = new RelaxedBernoulli(T(0.01)[0], logits: logits).RSample([20000], new Generator(71));
        Assert.All(warm.ToArray<double>(), v => Assert.InRange(v, 0, 1));
        double Hard(Tensor x) => x.ToArray<double>().Count(v => v < 0.01 || v > 0.99) / (double)x.Numel;
        Assert.True(Hard(cold) > 0.95, $"cold draws near 0/1: {Hard(cold)}");
        Assert.True(Hard(warm) < 0.05, $"warm draws near 0/1: {Hard(warm)}");
        // At any temperature P(x > 1/2) = σ(logits): the relaxation keeps the coin's odds.
        var c = cold.ToArray2D<double>();
        var p = logits.Sigmoid().ToArray<double>();
        for (int col = 0; col < 2; col++)
            Assert.Equal(p[col], Enumerable.Range(0, 20000).Count(r => c[r, col] > 0.5) / 20000.0, 0.015);

        var categoricalLogits = Tensor.From(new[] { 1.0, 0.0, -1.0, 0.5 }, 4);
        var relaxed = new RelaxedOneHotCategorical(T(0.1)[0], logits: categoricalLogits);
        var draws = relaxed.RSample([20000], new Generator(72));
        Assert.Equal([20000, 4], draws.ShapeArray);
        Assert.All(draws.Sum(-1).ToArray<double>(), v => Assert.Equal(1.0, v, 1e-9));
        // The argmax of a Concrete draw is a categorical draw (the Gumbel-max trick), at any temperature.
        var winners = draws.ArgMax(-1).ToArray<long>();
        var probs = categoricalLogits.Softmax(-1).ToArray<double>();
        for (int i = 0; i < 4; i++)
            Assert.Equal(probs[i], winners.Count(w => w == i) / 20000.0, 0.012);
        Assert.True(relaxed.HasRSample);
    }

    [Fact]
    public void CountAndRatioDrawsHaveTheirMoments()
    {
        var nb = new NegativeBinomial(T(3.0, 0.5), probs: T(0.4, 0.7));
        var n = nb.Sample([40000], new Generator(81));
        Assert.All(n.ToArray<double>(), v => Assert.Equal(Math.Floor(v), v));
        SamplingLaws.AssertMoments(n, nb.Mean.ToArray<double>(), nb.Variance.ToArray<double>(), 0.04);

        var f = new FisherSnedecor(T(6.0, 10.0), T(12.0, 20.0));
        var x = f.Sample([40000], new Generator(82));
        Assert.All(x.ToArray<double>(), v => Assert.True(v > 0));
        SamplingLaws.AssertMoments(x, f.Mean.ToArray<double>(), f.Variance.ToArray<double>(), 0.05);
        Assert.True(double.IsNaN(new FisherSnedecor(T(3.0), T(1.5)).Mean.ToArray<double>()[0]));   // d₂ ≤ 2: no mean
    }

    [Fact]
    public void CircularAndUnitIntervalDrawsHaveTheirLaws()
    {
        var loc = T(0.5, -2.8);
        var kappa = T(2.0, 0.7);
        var vonMises = new VonMises(loc, kappa);
        var a = vonMises.Sample([40000], new Generator(91)).ToArray2D<double>();
        var resultant = Tensor.From([1 - vonMises.Variance.ToArray<double>()[0], 1 - vonMises.Variance.ToArray<double>()[1]], 2).ToArray<double>();
        for (int c = 0; c < 2; c++)
        {
            double sumCos = 0, sumSin = 0;
            for (int r = 0; r < 40000; r++)
            {
                Assert.InRange(a[r, c], -Math.PI, Math.PI);
                sumCos += Math.Cos(a[r, c]);
                sumSin += Math.Sin(a[r, c]);
            }
            // The mean direction is μ (wrapped) and the mean resultant length I₁(κ)/I₀(κ) = 1 - the circular variance.
            Assert.Equal(loc.ToArray<double>()[c], Math.Atan2(sumSin, sumCos), 0.03);
            Assert.Equal(resultant[c], Math.Sqrt(sumCos * sumCos + sumSin * sumSin) / 40000, 0.01);
        }

        var probs = T(0.15, 0.35, 0.9).RequiresGrad_();   // not 1/2: there the inverse cdf is the identity, and its gradient 0 (as PyTorch's)
        var cb = new ContinuousBernoulli(probs);
        var x = cb.RSample([40000], new Generator(92));
        Assert.All(x.Detach().ToArray<double>(), v => Assert.InRange(v, 0, 1));
        SamplingLaws.AssertMoments(x.Detach(), cb.Mean.ToArray<double>(), cb.Variance.ToArray<double>(), 0.03);
        x.Sum().Backward();   // inverse-cdf draws: reparameterized
        Assert.All(probs.Grad!.ToArray<double>(), g => Assert.True(double.IsFinite(g) && g > 0));
    }

    [Fact]
    public void LogDensitiesPassFiniteDifferencesInFloat64()
    {
        Tensor Leaf(params double[] v) => T(v).RequiresGrad_();
        var x = T(0.3, 1.7);
        Assert.True(Autograd.GradCheck(a => new Weibull(a[0], a[1]).LogProb(x), [Leaf(1.2, 0.6), Leaf(0.8, 2.5)]));
        Assert.True(Autograd.GradCheck(a => new Kumaraswamy(a[0], a[1]).LogProb(T(0.2, 0.85)), [Leaf(0.7, 3.0), Leaf(2.0, 0.6)]));
        Assert.True(Autograd.GradCheck(a => new Pareto(a[0], a[1]).LogProb(T(2.5, 1.9)), [Leaf(1.2, 0.6), Leaf(0.8, 2.5)]));
        Assert.True(Autograd.GradCheck(a => new NegativeBinomial(a[0], logits: a[1]).LogProb(T(0.0, 4.0)), [Leaf(2.5, 0.7), Leaf(-0.3, 1.1)]));
        Assert.True(Autograd.GradCheck(a => new FisherSnedecor(a[0], a[1]).LogProb(x), [Leaf(3.0, 7.5), Leaf(2.5, 9.0)]));
        Assert.True(Autograd.GradCheck(a => new RelaxedBernoulli(a[0], logits: a[1]).LogProb(T(0.2, 0.9)), [Leaf(0.7)[0].Detach().RequiresGrad_(), Leaf(0.4, -1.0)]));
        var simplex = Tensor.From(new[] { 0.1, 0.2, 0.3, 0.4 }, 4);
        Assert.True(Autograd.GradCheck(a => new RelaxedOneHotCategorical(a[0], logits: a[1]).LogProb(simplex), [Leaf(0.8)[0].Detach().RequiresGrad_(), Leaf(0.5, -0.2, 0.1, 1.0)]));
        Assert.True(Autograd.GradCheck(a => new LogisticNormal(a[0], a[1]).LogProb(simplex), [Leaf(0.3, -0.5, 1.0), Leaf(0.5, 1.0, 0.7)]));
        Assert.True(Autograd.GradCheck(a => new StickBreakingTransform().Forward(a[0]), [Leaf(0.3, -1.5, 2.0)]));
        Assert.True(Autograd.GradCheck(a => new VonMises(a[0], a[1]).LogProb(T(0.4, -3.0)), [Leaf(0.1, 2.0), Leaf(0.5, 4.0)]));
        Assert.True(Autograd.GradCheck(a => new ContinuousBernoulli(a[0]).LogProb(T(0.3, 0.8)), [Leaf(0.2, 0.7)]));
    }

    [Fact]
    public void WhatIsNotKnownInClosedFormIsRefusedByName()
    {
        var refused = new Action[]
        {
            () => _ = new NegativeBinomial(T(2.0), probs: T(0.5)).Entropy(),
            () => _ = new FisherSnedecor(T(2.0), T(5.0)).Entropy(),
            () => _ = new LogitRelaxedBernoulli(T(0.5)[0], probs: T(0.5)).Mean,
            () => _ = new ExpRelaxedCategorical(T(0.5)[0], probs: T(0.5, 0.5)).Entropy(),
            () => _ = new LogisticNormal(T(0.0, 1.0), T(1.0, 1.0)).Mean,
            () => _ = new VonMises(T(0.0), T(1.0)).Entropy(),
        };
        foreach (var a in refused)
        {
            var e = Assert.Throws<KilnException>(a);
            Assert.Equal(KilnErrorKind.Unsupported, e.Kind);
        }
        var both = Assert.Throws<KilnException>(() => new RelaxedBernoulli(T(0.5)[0], probs: T(0.5), logits: T(0.0)));
        Assert.Contains("RelaxedBernoulli", both.Message);
        var shapes = Assert.Throws<KilnException>(() => new Weibull(T(1.0, 2.0), T(1.0, 2.0, 3.0)));
        Assert.Contains("Weibull", shapes.Message);
    }
}
