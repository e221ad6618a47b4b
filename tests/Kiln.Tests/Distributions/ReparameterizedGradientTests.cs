using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.Distributions;
using Kiln.Kernels.Special;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>
/// The implicit reparameterization gradients of gamma-based draws (Gamma, Chi2, Beta, Dirichlet, StudentT,
/// FisherSnedecor, Wishart): against the exact derivatives (mpmath, 40 digits) and PyTorch's fitted approximations
/// (tests/golden/data/reparam.json, make_reparam_golden.py), and by the pathwise identity d/dθ E[x] = E[dx/dθ] over
/// seeded draws.
/// </summary>
public class ReparameterizedGradientTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "reparam.json"))).RootElement;

    static double[] Read(string group, string key) => Root.GetProperty(group).GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    static Tensor T(params double[] values) => Tensor.From(values, values.Length);

    [Fact]
    public void GammaGradientsAreExactAndWithinPyTorchsFit()
    {
        var alpha = Read("gamma", "alpha");
        var x = Read("gamma", "x");
        var exact = Read("gamma", "exact");
        var torch = Read("gamma", "torch");
        for (int i = 0; i < alpha.Length; i++)
        {
            double g = IncompleteGamma.SampleGradient(alpha[i], x[i]);
            Assert.True(Math.Abs(g - exact[i]) <= 1e-7 * Math.Abs(exact[i]) + 1e-300, $"α={alpha[i]} x={x[i]}: {g:R}, exact {exact[i]:R}");
            // PyTorch's fit is within 2e-4 of the exact value at these bulk points.
            Assert.True(Math.Abs(g - torch[i]) <= 1e-3 * Math.Abs(torch[i]) + 1e-300, $"α={alpha[i]} x={x[i]}: {g:R}, PyTorch {torch[i]:R}");
        }
    }

    [Fact]
    public void DirichletMarginalGradientsAreExactAndWithinPyTorchsFit()
    {
        var x = Read("dirichlet", "x");
        var alpha = Read("dirichlet", "alpha");
        var total = Read("dirichlet", "total");
        var exact = Read("dirichlet", "exact");
        var torch = Read("dirichlet", "torch");
        for (int i = 0; i < x.Length; i++)
        {
            double g = IncompleteBeta.DirichletGradient(x[i], alpha[i], total[i]);
            Assert.True(Math.Abs(g - exact[i]) <= 1e-7 * Math.Abs(exact[i]) + 1e-300, $"x={x[i]} α={alpha[i]} total={total[i]}: {g:R}, exact {exact[i]:R}");
            Assert.True(Math.Abs(g - torch[i]) <= 2e-3 * Math.Abs(torch[i]) + 1e-300, $"x={x[i]} α={alpha[i]} total={total[i]}: {g:R}, PyTorch {torch[i]:R}");
        }
    }

    [Fact]
    public void FarTailGammaGradientsFollowTheAsymptoticForm()
    {
        // For x ≫ α, Q(α, x) ≈ x^(α-1)e^(-x)/Γ(α)·(1 + (α - 1)/x), so dx/dα ≈ (1 + (α - 1)/x)·(log x - ψ(α)) — where PyTorch's
        // fit drifts by up to 25 % (α = 0.05, x = 10⁴: 23.7 against 29.7).
        foreach (var (alpha, x) in new[] { (0.05, 1e4), (0.3, 190.0), (2.5, 500.0) })
        {
            double psi = Tensor.From(new[] { alpha }, 1).Digamma().Item<double>();
            double expected = (1 + (alpha - 1) / x) * (Math.Log(x) - psi);
            Assert.Equal(expected, IncompleteGamma.SampleGradient(alpha, x), 2);
        }
    }

    [Fact]
    public void IncompleteGammaMatchesItsSeriesAndFractionAtTheSwitch()
    {
        // Either side of x = a + 1 the two methods meet; P + Q = 1; the limits at 0 and ∞.
        foreach (double a in new[] { 0.5, 3.0, 40.0 })
        {
            double below = IncompleteGamma.P(a, a + 1 - 1e-9), above = IncompleteGamma.P(a, a + 1 + 1e-9);
            Assert.Equal(below, above, 8);
            Assert.Equal(1.0, IncompleteGamma.P(a, a + 0.3) + IncompleteGamma.Q(a, a + 0.3), 14);
        }
        Assert.Equal(0.0, IncompleteGamma.P(2.0, 0.0));
        Assert.Equal(1.0, IncompleteGamma.P(2.0, double.PositiveInfinity));
        Assert.True(double.IsNaN(IncompleteGamma.P(-1.0, 2.0)));
        // P(1, x) = 1 - e^(-x) exactly.
        Assert.Equal(1 - Math.Exp(-0.7), IncompleteGamma.P(1.0, 0.7), 14);
    }

    [Fact]
    public void PathwiseGradientsAverageToTheMeansDerivative()
    {
        // E[x] = α for Γ(α, 1): the mean of dx/dα over draws is 1.
        var alpha = T(0.4, 3.0).RequiresGrad_();
        using (var draws = new Gamma(alpha, T(1.0, 1.0)).RSample([20000], new Generator(41)))
        using (var mean = draws.Mean())
            mean.Backward();
        Assert.All(alpha.Grad!.ToArray<double>(), g => Assert.InRange(g * 2, 0.96, 1.04));

        // Beta(α, β): dE[x]/dα = β/(α + β)², dE[x]/dβ = -α/(α + β)².
        var a = T(0.8)[0].RequiresGrad_();
        var b = T(2.5)[0].RequiresGrad_();
        using (var draws = new Beta(a, b).RSample([40000], new Generator(42)))
        using (var mean = draws.Mean())
            mean.Backward();
        Assert.InRange(a.Grad!.Item<double>(), 2.5 / (3.3 * 3.3) * 0.96, 2.5 / (3.3 * 3.3) * 1.04);
        Assert.InRange(b.Grad!.Item<double>(), -0.8 / (3.3 * 3.3) * 1.04, -0.8 / (3.3 * 3.3) * 0.96);

        // Dirichlet(α): dE[x₀]/dα₀ = (α₀ + α₁ + α₂ - α₀)/total², dE[x₀]/dα₁ = -α₀/total².
        var conc = T(1.5, 0.6, 2.9).RequiresGrad_();
        using (var draws = new Dirichlet(conc).RSample([40000], new Generator(43)))
        using (var first = draws.Select(-1, 0).Mean())
            first.Backward();
        var dg = conc.Grad!.ToArray<double>();
        double t2 = 5.0 * 5.0;
        Assert.InRange(dg[0], 3.5 / t2 * 0.95, 3.5 / t2 * 1.05);
        Assert.InRange(dg[1], -1.5 / t2 * 1.05, -1.5 / t2 * 0.95);
        Assert.InRange(dg[2], -1.5 / t2 * 1.05, -1.5 / t2 * 0.95);

        // Chi2(k): E[x] = k; StudentT: E[x] = loc; F(d₁, d₂): E[x] = d₂/(d₂ - 2), d/dd₂ = -2/(d₂ - 2)².
        var k = T(3.0)[0].RequiresGrad_();
        using (var draws = new Chi2(k).RSample([20000], new Generator(44)))
        using (var mean = draws.Mean())
            mean.Backward();
        Assert.InRange(k.Grad!.Item<double>(), 0.96, 1.04);
        var d2 = T(9.0)[0].RequiresGrad_();
        using (var draws = new FisherSnedecor(T(4.0)[0], d2).RSample([80000], new Generator(45)))
        using (var mean = draws.Mean())
            mean.Backward();
        Assert.InRange(d2.Grad!.Item<double>(), -2.0 / 49 * 1.15, -2.0 / 49 * 0.85);
    }

    [Fact]
    public void GammaAndChi2CdfsAreTheIncompleteGammaFunction()
    {
        var gamma = new Gamma(T(2.0), T(3.0));
        Assert.Equal(IncompleteGamma.P(2.0, 1.5), gamma.Cdf(T(0.5)).Item<double>(), 14);
        var chi2 = new Chi2(T(4.0));
        // χ²(4) cdf at x: 1 - e^(-x/2)(1 + x/2).
        Assert.Equal(1 - Math.Exp(-1.5) * 2.5, chi2.Cdf(T(3.0)).Item<double>(), 13);
        var refused = Assert.Throws<KilnException>(() =>
        {
            var a = T(2.0).RequiresGrad_();
            a.Igamma(T(1.0)).Sum().Backward();
        });
        Assert.Contains("igamma", refused.Message);
    }
}
