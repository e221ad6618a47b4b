using System.Linq;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// Gumbel-softmax is random, so it is checked by what must hold for every draw (soft rows are distributions, hard rows
/// one-hot with the soft sample's gradient) and by its law: the argmax of the perturbed logits is a draw from their softmax.
/// </summary>
public class GumbelSoftmaxTests
{
    [Fact]
    public void SoftSamplesAreDistributionsAndHardOnesStraightThrough()
    {
        var logits = Tensor.Randn([5, 4], DType.Float32, new Generator(91)).RequiresGrad_();
        var soft = F.GumbelSoftmax(logits, tau: 0.7, generator: new Generator(7));
        Assert.All(soft.Sum(1).ToArray<float>(), s => Assert.Equal(1f, s, 5));
        Assert.All(soft.ToArray<float>(), p => Assert.InRange(p, 0f, 1f));
        var weights = Tensor.Randn([5, 4], DType.Float32, new Generator(92));
        (soft * weights).Sum().Backward();
        var softGrad = logits.Grad!.ToArray<float>();
        logits.Grad = null;

        var hard = F.GumbelSoftmax(logits, tau: 0.7, hard: true, generator: new Generator(7));   // the same draw
        var rows = hard.ToArray2D<float>();
        var softRows = soft.ToArray2D<float>();
        for (int r = 0; r < 5; r++)
        {
            int arg = Enumerable.Range(0, 4).MaxBy(c => softRows[r, c]);
            for (int c = 0; c < 4; c++) Assert.Equal(c == arg ? 1f : 0f, rows[r, c], 6);
        }
        (hard * weights).Sum().Backward();
        Assert.Equal(softGrad, logits.Grad!.ToArray<float>());
    }

    [Fact]
    public void TheArgmaxFollowsTheSoftmaxOfTheLogits()
    {
        double[] p = [0.5, 0.3, 0.2];
        var row = Tensor.From(p.Select(v => (float)System.Math.Log(v)).ToArray(), 1, 3);
        using var logits = row.Expand(20000, 3);
        var hard = F.GumbelSoftmax(logits, hard: true, generator: new Generator(93));
        var share = hard.Mean(0).ToArray<float>();
        for (int c = 0; c < 3; c++) Assert.InRange(share[c], p[c] - 0.015, p[c] + 0.015);   // ~4.5 standard deviations
    }

    [Fact]
    public void BadInputsNameTheFunction()
    {
        Assert.StartsWith("gumbel_softmax: tau must be positive", Assert.Throws<KilnException>(() => F.GumbelSoftmax(Tensor.Ones(2, 3), 0)).Message);
        Assert.StartsWith("gumbel_softmax: expected floating point logits", Assert.Throws<KilnException>(() => F.GumbelSoftmax(Tensor.From(new long[] { 1, 2 }, 2))).Message);
    }
}
