using System.Linq;
using Kiln.Data;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// randperm, bernoulli, multinomial and WeightedRandomSampler. Kiln's generator is not PyTorch's, so these check the
/// distributions (counts within a few standard deviations) and reproducibility from a seed, not PyTorch's draws.
/// </summary>
public class SamplingTests
{
    [Fact]
    public void RandpermIsAPermutationAndReproducible()
    {
        var a = Tensor.Randperm(50, new Generator(7)).ToArray<long>();
        var b = Tensor.Randperm(50, new Generator(7)).ToArray<long>();
        Assert.Equal(a, b);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), a.OrderBy(v => v));
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i), a);
    }

    [Fact]
    public void BernoulliDrawsOnesWithTheGivenProbability()
    {
        using var p = Tensor.From(new double[] { 0.0, 1.0, 0.3 }, 3).Reshape(3, 1).Expand(3, 20000).Contiguous();
        var draws = p.Bernoulli(new Generator(1)).ToArray<double>();
        Assert.All(draws.Take(20000), v => Assert.Equal(0, v));
        Assert.All(draws.Skip(20000).Take(20000), v => Assert.Equal(1, v));
        double rate = draws.Skip(40000).Average();
        Assert.InRange(rate, 0.3 - 0.013, 0.3 + 0.013);  // 4 standard deviations
        Assert.Throws<KilnException>(() => Tensor.From(1.5f).Bernoulli());
    }

    [Fact]
    public void MultinomialFollowsTheWeights()
    {
        using var w = Tensor.From(new double[] { 1, 0, 3, 6 }, 4);
        var draws = w.Multinomial(20000, replacement: true, new Generator(2)).ToArray<long>();
        Assert.DoesNotContain(1L, draws);
        Assert.InRange(draws.Count(d => d == 3) / 20000.0, 0.6 - 0.014, 0.6 + 0.014);
        Assert.InRange(draws.Count(d => d == 0) / 20000.0, 0.1 - 0.009, 0.1 + 0.009);

        // Without replacement: distinct categories, the heaviest usually first.
        int heavyFirst = 0;
        var g = new Generator(3);
        for (int trial = 0; trial < 2000; trial++)
        {
            var d = w.Multinomial(3, replacement: false, g).ToArray<long>();
            Assert.Equal(3, d.Distinct().Count());
            Assert.DoesNotContain(1L, d);
            if (d[0] == 3) heavyFirst++;
        }
        Assert.InRange(heavyFirst / 2000.0, 0.6 - 0.045, 0.6 + 0.045);

        using var rows = Tensor.From(new double[] { 1, 0, 0, 0, 0, 1 }, 2, 3);
        Assert.Equal(new long[] { 0, 0, 2, 2 }, rows.Multinomial(2, replacement: true).ToArray<long>());
        Assert.Contains("without replacement", Assert.Throws<KilnException>(() => w.Multinomial(5)).Message);
        Assert.Contains("sum of probabilities", Assert.Throws<KilnException>(() => Tensor.Zeros(3).Multinomial(1, true)).Message);
        Assert.Throws<KilnException>(() => Tensor.From(new double[] { 1, -1 }, 2).Multinomial(1, true));
    }

    [Fact]
    public void WeightedRandomSamplerOverSamplesTheRareClass()
    {
        var sampler = new WeightedRandomSampler([1, 1, 1, 7], 10000, generator: new Generator(4));
        var drawn = sampler.ToArray();
        Assert.Equal(10000, drawn.Length);
        Assert.InRange(drawn.Count(i => i == 3) / 10000.0, 0.7 - 0.02, 0.7 + 0.02);
        var noReplacement = new WeightedRandomSampler([1, 2, 3], 3, replacement: false, generator: new Generator(5)).ToArray();
        Assert.Equal(new[] { 0, 1, 2 }, noReplacement.OrderBy(i => i));
        Assert.Throws<KilnException>(() => new WeightedRandomSampler([1.0], 0));
    }
}
