using System;
using System.Linq;
using Kiln.NN;
using Kiln.Optim;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>Dropout statistics, gradient clipping and a small end-to-end training run.</summary>
public class TrainingUtilityTests
{
    [Fact]
    public void DropoutZeroesAboutPAndRescalesTheRest()
    {
        var x = Tensor.Ones(200000);
        var y = F.Dropout(x, 0.3, true, new Generator(9)).ToArray<float>();
        double zeros = y.Count(v => v == 0) / (double)y.Length;
        Assert.InRange(zeros, 0.29, 0.31);
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(1 / 0.7f, v, 5));
        Assert.Equal(x.ToArray<float>(), F.Dropout(x, 0.3, training: false).ToArray<float>());
        var g = Tensor.Ones(1000).RequiresGrad_();
        var d = F.Dropout(g, 0.5, true, new Generator(1));
        d.Sum().Backward();
        Assert.Equal(d.ToArray<float>(), g.Grad!.ToArray<float>()); // the gradient is the same mask and scale
    }

    /// <summary>
    /// Dropout of a contiguous float32 tensor draws and applies its mask in one pass: the same values as the mask drawn
    /// from the same generator state then multiplied (odd sizes for the scalar tail, a transposed view through the
    /// composition), with and without a gradient, and the gradient is that mask.
    /// </summary>
    [Theory]
    [InlineData(1, 0.1)]
    [InlineData(37, 0.5)]
    [InlineData(5003, 0.25)]
    [InlineData(70000, 0.9)]
    public void OnePassDropoutEqualsTheMaskTimesTheInput(int n, double p)
    {
        var x = Tensor.Randn(new[] { n }, generator: new Generator(3));
        var mask = Tensor.DropoutMask([n], p, DType.Float32, new Generator(17));
        var expected = (x * mask).ToArray<float>();
        Assert.Equal(expected, F.Dropout(x, p, true, new Generator(17)).ToArray<float>());
        var leaf = x.Detach().RequiresGrad_();
        var y = F.Dropout(leaf, p, true, new Generator(17));
        Assert.Equal(expected, y.ToArray<float>());
        y.Sum().Backward();
        Assert.Equal(mask.ToArray<float>(), leaf.Grad!.ToArray<float>());
        // A transposed view runs the composition and draws the same stream in its logical order.
        var m = Tensor.Randn(new[] { 13, 9 }, generator: new Generator(5));
        var viaView = F.Dropout(m.T, p, true, new Generator(8)).ToArray<float>();
        var viaCopy = F.Dropout(m.T.Contiguous(), p, true, new Generator(8)).ToArray<float>();
        Assert.Equal(viaCopy, viaView);
    }

    [Fact]
    public void ClipGradNormScalesAllGradientsTogether()
    {
        var a = Tensor.Zeros(2).RequiresGrad_();
        var b = Tensor.Zeros(1).RequiresGrad_();
        a.Grad = Tensor.From(3f, 0f);
        b.Grad = Tensor.From(4f);
        double norm = GradClipping.ClipGradNorm_([a, b], 1.0);
        Assert.Equal(5.0, norm, 6);
        Assert.Equal(3f / 5, a.Grad!.ToArray<float>()[0], 5);
        Assert.Equal(4f / 5, b.Grad!.ToArray<float>()[0], 5);
        Assert.Equal(4.0, GradClipping.ClipGradNorm_([a, b], 10, double.PositiveInfinity) * 5, 4); // inf-norm of (0.6, 0, 0.8) = 0.8
        GradClipping.ClipGradValue_([a, b], 0.7);
        Assert.Equal(0.6f, a.Grad.ToArray<float>()[0], 5);
        Assert.Equal(0f, a.Grad.ToArray<float>()[1]);
        Assert.Equal(0.7f, b.Grad.ToArray<float>()[0]);
        b.Grad = Tensor.From(float.NaN);
        Assert.Throws<KilnException>(() => GradClipping.ClipGradNorm_([a, b], 1, errorIfNonfinite: true));

        // The two halves on their own (a norm over several groups, then one scale): get_total_norm, clip_grads_with_norm_.
        a.Grad = Tensor.From(3f, 0f);
        b.Grad = Tensor.From(4f);
        double total = GradClipping.GetTotalNorm([a.Grad, b.Grad]);
        Assert.Equal(5.0, total, 6);
        Assert.Equal(2.0, GradClipping.GetTotalNorm([Tensor.From(1f, -1f), Tensor.From(1f, 1f)], 1) / 2, 6);
        GradClipping.ClipGradsWithNorm_([a], 2.5, total);   // only a's gradient is scaled, by 2.5 / 5
        Assert.Equal(1.5f, a.Grad!.ToArray<float>()[0], 5);
        Assert.Equal(4f, b.Grad!.ToArray<float>()[0]);
    }

    [Fact]
    public void ParametersMakeOneVectorAndTakeItBack()
    {
        var w = Tensor.From(new[] { 1f, 2f, 3f, 4f }, 2, 2).RequiresGrad_();
        var bias = Tensor.From(5f).RequiresGrad_();
        var vector = GradClipping.ParametersToVector([w, bias]);
        Assert.Equal([1f, 2f, 3f, 4f, 5f], vector.ToArray<float>());
        GradClipping.VectorToParameters(vector * 10, [w, bias]);
        Assert.Equal([10f, 20f, 30f, 40f], w.ToArray<float>());
        Assert.Equal(50f, bias.ToArray<float>()[0]);
        Assert.True(w.IsLeaf && w.RequiresGrad);
        Assert.StartsWith("vector_to_parameters: the vector has 4 elements, the parameters 5",
            Assert.Throws<KilnException>(() => GradClipping.VectorToParameters(Tensor.Zeros(4), [w, bias])).Message);
    }

    [Fact]
    public void PadSequenceCanPadOnTheLeft()
    {
        var a = Tensor.From(new[] { 1f, 2f }, 2);
        var b = Tensor.From(new[] { 3f, 4f, 5f }, 3);
        var left = RnnUtils.PadSequence([a, b], batchFirst: true, paddingValue: -1, paddingSide: "left");
        Assert.Equal([-1f, 1f, 2f, 3f, 4f, 5f], left.ToArray<float>());
        Assert.Equal([3, 2], RnnUtils.PadSequence([a, b]).ShapeArray);
        Assert.StartsWith("pad_sequence: Expected padding_side to be one of left or right, but got middle",
            Assert.Throws<KilnException>(() => RnnUtils.PadSequence([a, b], paddingSide: "middle")).Message);
        var back = RnnUtils.UnpadSequence(RnnUtils.PadSequence([a, b]), [2, 3]);
        Assert.Equal(a.ToArray<float>(), back[0].ToArray<float>());
        Assert.Equal(b.ToArray<float>(), back[1].ToArray<float>());
    }

    [Fact]
    public void OptimizerStateSurvivesTheStepsScope()
    {
        var p = Tensor.Ones(4).RequiresGrad_();
        var q = Tensor.Ones(4).RequiresGrad_();
        var inScope = new Adam([p], lr: 0.1);
        var plain = new Adam([q], lr: 0.1);
        for (int i = 0; i < 3; i++)
        {
            using (Tensor.Scope())
            {
                inScope.ZeroGrad();
                (p * p).Sum().Backward();
                inScope.Step();
            }
            plain.ZeroGrad();
            (q * q).Sum().Backward();
            plain.Step();
        }
        Assert.Equal(q.ToArray<float>(), p.ToArray<float>());
        Assert.False(inScope.StateDict().State[0]["exp_avg"].IsDisposed);
    }

    [Fact]
    public void SmallConvNetLearnsWithAdamWAndCosineSchedule()
    {
        // Two classes of 8x8 images: a bright left half or a bright right half, plus noise.
        var gen = new Generator(11);
        var x = Tensor.Randn([64, 1, 8, 8], DType.Float32, gen) * 0.3;
        var labels = new long[64];
        using (Autograd.NoGrad())
            for (int i = 0; i < 64; i++)
            {
                labels[i] = i % 2;
                x[i, 0, .., (i % 2 == 0 ? 0 : 4)..(i % 2 == 0 ? 4 : 8)].Add_(1.0);
            }
        var y = Tensor.From(labels, 64);
        var model = new Sequential(new Conv2d(1, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(4 * 4 * 4, 2));
        var opt = new AdamW(model.Parameters(), lr: 0.05);
        var sched = new Optim.Schedulers.CosineAnnealingLR(opt, 30);
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            opt.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), y);
            loss.Backward();
            opt.Step();
            sched.Step();
            if (step == 0) first = loss.Item<float>();
            last = loss.Item<float>();
        }
        Assert.True(last < first * 0.2, $"loss went from {first} to {last}");
        model.Eval();
        var predicted = model.Forward(x).ArgMax(1).ToArray<long>();
        Assert.True(predicted.Zip(labels).Count(p => p.First == p.Second) >= 62);
    }
}
