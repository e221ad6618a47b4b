using System;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// RReLU in training draws a slope per element (PyTorch's values come from another generator, so its laws are checked
/// here; evaluation mode is in the module golden file).
/// </summary>
public class RReLUTests
{
    [Fact]
    public void TrainingScalesEachNegativeElementByItsOwnSlopeInTheRange()
    {
        const double lower = 0.1, upper = 0.4;
        using var x = Tensor.Linspace(-3, 3, 20001).RequiresGrad_();
        using var y = F.Rrelu(x, lower, upper, training: true, generator: new Generator(7));
        y.Sum().Backward();
        var xs = x.ToArray<float>();
        var ys = y.ToArray<float>();
        var gs = x.Grad!.ToArray<float>();
        double sum = 0, sumSq = 0;
        int negatives = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            if (xs[i] > 0)
            {
                Assert.Equal(xs[i], ys[i]);
                Assert.Equal(1f, gs[i]);
                continue;
            }
            // The gradient is the slope drawn for the element, and the output is the input times it.
            Assert.InRange(gs[i], (float)lower, (float)upper);
            Assert.Equal(xs[i] * gs[i], ys[i]);
            sum += gs[i];
            sumSq += gs[i] * (double)gs[i];
            negatives++;
        }
        // Uniform slopes: mean (lower + upper)/2, variance (upper - lower)²/12 (10,001 draws: 5 standard errors).
        double mean = sum / negatives, variance = sumSq / negatives - mean * mean;
        double se = (upper - lower) / Math.Sqrt(12.0 * negatives);
        Assert.InRange(mean, (lower + upper) / 2 - 5 * se, (lower + upper) / 2 + 5 * se);
        Assert.InRange(variance, 0.9 * Math.Pow(upper - lower, 2) / 12, 1.1 * Math.Pow(upper - lower, 2) / 12);
    }

    [Fact]
    public void TheSameSeedDrawsTheSameSlopesAndEvaluationUsesTheirMean()
    {
        using var x = Tensor.From(new[] { -1f, -2f, 0.5f, -0.25f }, 4);
        using var a = F.Rrelu(x, training: true, generator: new Generator(3));
        using var b = F.Rrelu(x, training: true, generator: new Generator(3));
        Assert.Equal(a.ToArray<float>(), b.ToArray<float>());
        using var eval = F.Rrelu(x, 0.2, 0.4);
        Assert.Equal(new[] { -0.3f, -0.6f, 0.5f, -0.075f }, eval.ToArray<float>());

        var layer = new RReLU(0.2, 0.4);
        Assert.True(layer.Training);
        layer.Eval();
        using var viaModule = layer.Forward(x);
        Assert.Equal(eval.ToArray<float>(), viaModule.ToArray<float>());
        Assert.Equal("RReLU(lower=0.2, upper=0.4)", layer.ToString());
    }

    [Fact]
    public void ABoundAboveTheOtherIsRefusedByName()
    {
        using var x = Tensor.Ones(3);
        var e = Assert.Throws<KilnException>(() => F.Rrelu(x, 0.5, 0.1));
        Assert.Contains("rrelu", e.Message);
        Assert.Contains("lower=0.5", e.Message);
        var m = Assert.Throws<KilnException>(() => new RReLU(0.5, 0.1));
        Assert.Contains("RReLU", m.Message);
    }
}
