using System;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>The adaptive softmax beyond its golden cases (nn.json): a distribution over all classes, one row, refusals.</summary>
public class AdaptiveLogSoftmaxTests
{
    [Fact]
    public void ItsLogProbabilitiesFormADistributionAndForwardReadsThem()
    {
        var asm = new AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], 2.0);
        using var x = Tensor.Randn([5, 8], DType.Float32, new Generator(3));
        using var log = asm.LogProb(x);
        using var probs = log.Exp();
        using var sums = probs.Sum([1]);
        Assert.All(sums.ToArray<float>(), s => Assert.Equal(1f, s, 5));
        var target = Tensor.From(new long[] { 0, 7, 19, 3, 12 }, 5);
        var (output, loss) = asm.Forward(x, target);
        using var picked = log.Gather(1, target.Unsqueeze(1));
        Assert.Equal(picked.Squeeze(1).ToArray<float>(), output.ToArray<float>(), new FloatClose(1e-5f));
        Assert.Equal(-output.Mean().Item<float>(), loss.Item<float>(), 5);
        using var predicted = asm.Predict(x);
        Assert.Equal(log.ArgMax(-1).ToArray<long>(), predicted.ToArray<long>());
        var (one, _) = asm.Forward(x[0], Tensor.Scalar(7L));
        Assert.Empty(one.ShapeArray);
        Assert.Equal(log[0, 7].Item<float>(), one.Item<float>(), 5);
    }

    [Fact]
    public void BadCutoffsTargetsAndShapesAreRefusedByName()
    {
        Assert.Contains("cutoffs should be a sequence of unique, positive integers sorted in an increasing order",
            Assert.Throws<KilnException>(() => new AdaptiveLogSoftmaxWithLoss(8, 20, [10, 4])).Message);
        Assert.Contains("between 1 and n_classes-1 (19), got [4, 20]",
            Assert.Throws<KilnException>(() => new AdaptiveLogSoftmaxWithLoss(8, 20, [4, 20])).Message);
        var asm = new AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10]);
        Assert.Contains("target values should be in [0, 19], but 20 was found at 1",
            Assert.Throws<KilnException>(() => asm.Forward(Tensor.Ones(2, 8), Tensor.From(new long[] { 1, 20 }, 2))).Message);
        Assert.Contains("same size in the batch dimension",
            Assert.Throws<KilnException>(() => asm.Forward(Tensor.Ones(2, 8), Tensor.From(new long[] { 1, 2, 3 }, 3))).Message);
    }

    sealed class FloatClose(float tolerance) : System.Collections.Generic.IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float v) => 0;
    }
}
