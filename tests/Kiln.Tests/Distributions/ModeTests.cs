using System;
using Kiln.Distributions;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>
/// Modes where PyTorch 1.13 has none to compare with or a wrong one (the other families' modes are the golden case
/// dist_modes): each is the maximum of the family's own log density.
/// </summary>
public class ModeTests
{
    static Tensor T(params double[] values) => Tensor.From(values, values.Length);

    [Fact]
    public void KumaraswamyModeMaximizesItsDensity()
    {
        // ((a - 1)/(ab - 1))^(1/a); PyTorch 1.13's log-space formula gives NaN for every b > 1.
        var d = new Kumaraswamy(T(2.0, 5.0, 1.5), T(3.0, 1.5, 8.0));
        var mode = d.Mode.ToArray<double>();
        var density = new[] { -1e-4, 0.0, 1e-4 };
        for (int i = 0; i < mode.Length; i++)
        {
            using var points = T(mode[i] + density[0], mode[i] + density[1], mode[i] + density[2]);
            var single = new Kumaraswamy(T(new[] { 2.0, 5.0, 1.5 }[i]), T(new[] { 3.0, 1.5, 8.0 }[i]));
            var lp = single.LogProb(points).ToArray<double>();
            Assert.True(lp[1] >= lp[0] && lp[1] >= lp[2], $"mode {mode[i]} is not a maximum: {lp[0]}, {lp[1]}, {lp[2]}");
        }
        Assert.Equal(Math.Pow(1.0 / 5, 0.5), mode[0], 12);
        Assert.True(double.IsNaN(new Kumaraswamy(T(0.5), T(2.0)).Mode.Item<double>()));
    }

    [Fact]
    public void AFamilyWithoutAModeIsRefusedByName()
    {
        var e = Assert.Throws<KilnException>(() => new ContinuousBernoulli(T(0.3)).Mode);
        Assert.Equal("mode: ContinuousBernoulli has no closed-form mode", e.Message);
        Assert.Equal(KilnErrorKind.Unsupported, e.Kind);
        Assert.Throws<KilnException>(() => new MixtureSameFamily(new Categorical(probs: T(0.5, 0.5)), new Normal(T(0, 1), T(1, 1))).Mode);
    }
}
