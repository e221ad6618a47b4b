using System.Linq;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// CTC beyond its golden cases: float64 finite differences through the alpha recursion (log-probabilities directly, not
/// only through a log-softmax), a hand-counted two-frame likelihood, the finite gradient of logaddexp at two -inf (the
/// recursion's unreachable states), and bad input that names the loss.
/// </summary>
public class CtcLossTests
{
    static Tensor Longs(params long[] v) => Tensor.From(v, v.Length);

    [Fact]
    public void GradientPassesFiniteDifferences()
    {
        var logits = Tensor.Randn([6, 2, 4], DType.Float64, new Generator(61)).RequiresGrad_();
        var targets = Tensor.From(new long[] { 1, 2, 2, 3, 0, 0 }, 2, 3);
        Assert.True(Autograd.GradCheck(x => F.CtcLoss(x[0].LogSoftmax(-1), targets, Longs(6, 5), Longs(3, 1), reduction: Reduction.Sum), [logits]));
        // Straight on log-probabilities too: the recursion's own gradient, -γ (PyTorch's would add eˣ here).
        var lp = Tensor.Randn([5, 1, 3], DType.Float64, new Generator(62)).RequiresGrad_();
        Assert.True(Autograd.GradCheck(x => F.CtcLoss(x[0], Tensor.From(new long[] { 1, 2 }, 1, 2), Longs(5), Longs(2)), [lp]));
    }

    [Fact]
    public void TwoFramesCountEveryAlignment()
    {
        // Target [1] over two frames: alignments "1 1", "blank 1", "1 blank".
        double[] p0 = [0.2, 0.5, 0.3], p1 = [0.6, 0.1, 0.3];
        var lp = Tensor.From(p0.Concat(p1).Select(v => System.Math.Log(v)).ToArray(), 2, 1, 3);
        double expected = -System.Math.Log(p0[1] * p1[1] + p0[0] * p1[1] + p0[1] * p1[0]);
        var loss = F.CtcLoss(lp, Tensor.From(new long[] { 1 }, 1, 1), Longs(2), Longs(1), reduction: Reduction.Sum);
        Assert.Equal(expected, loss.Item<double>(), 12);
    }

    [Fact]
    public void LogaddexpOfTwoNegativeInfinitiesHasAFiniteGradient()
    {
        var a = Tensor.From(new[] { double.NegativeInfinity, 0.5 }, 2).RequiresGrad_();
        var b = Tensor.From(new[] { double.NegativeInfinity, double.NegativeInfinity }, 2).RequiresGrad_();
        var y = a.Logaddexp(b);
        Assert.Equal(double.NegativeInfinity, y.ToArray<double>()[0]);
        y.Sum().Backward();
        Assert.All(a.Grad!.ToArray<double>().Concat(b.Grad!.ToArray<double>()), g => Assert.False(double.IsNaN(g)));
        Assert.Equal(1.0, a.Grad!.ToArray<double>()[1]);
    }

    [Fact]
    public void BadInputsNameTheLoss()
    {
        var lp = Tensor.Zeros(4, 2, 3);
        Assert.StartsWith("ctc_loss: expected log_probs of shape [T, N, C]", Assert.Throws<KilnException>(() => F.CtcLoss(Tensor.Zeros(4), Longs(1), Longs(4), Longs(1))).Message);
        Assert.StartsWith("ctc_loss: input length 5 of sample 1 is outside [0, 4]", Assert.Throws<KilnException>(() => F.CtcLoss(lp, Longs(1, 2), Longs(4, 5), Longs(1, 1))).Message);
        Assert.StartsWith("ctc_loss: target label 3 of sample 0 is outside the 3 classes", Assert.Throws<KilnException>(() => F.CtcLoss(lp, Longs(3, 2), Longs(4, 4), Longs(1, 1))).Message);
        Assert.StartsWith("ctc_loss: target length 3 of sample 1 runs past the targets", Assert.Throws<KilnException>(() => F.CtcLoss(lp, Longs(1, 2, 1), Longs(4, 4), Longs(1, 3))).Message);
        Assert.StartsWith("ctc_loss: input_lengths must have one entry per batch element (2)", Assert.Throws<KilnException>(() => F.CtcLoss(lp, Longs(1, 2), Longs(4), Longs(1, 1))).Message);
        Assert.StartsWith("ctc_loss: blank must be in label range [0, 3)", Assert.Throws<KilnException>(() => F.CtcLoss(lp, Longs(1, 2), Longs(4, 4), Longs(1, 1), blank: 3)).Message);
        Assert.StartsWith("ctc_loss: targets must be integers", Assert.Throws<KilnException>(() => F.CtcLoss(lp, Tensor.Ones(2), Longs(4, 4), Longs(1, 1))).Message);
        Assert.Equal("CTCLoss()", new CTCLoss().ToString());
    }
}
