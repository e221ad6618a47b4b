using System;
using System.Linq;
using Kiln;
using Kiln.NN;
using Kiln.Optim;
using Xunit;
using static Kiln.Tests.Gpu.EmulatedCuda;

namespace Kiln.Tests.Gpu;

/// <summary>
/// Dynamic autograd on the emulated CUDA device: the derivative rules are tensor ops, so every gradient is computed by the
/// CUDA kernels; each is compared with the CPU's. A whole training loop (MLP, cross-entropy, Adam and SGD) too.
/// </summary>
[Collection(EmulatedCuda.Collection)]
public class GpuAutogradTests
{
    static Tensor Rand(ulong seed, params int[] shape)
    {
        using var u = Tensor.Rand(shape, DType.Float32, new Generator(seed));
        using var c = u * 2.0;
        return c - 1.0;
    }

    /// <summary>Gradient of sum(f(x)·w) w.r.t. x on both devices.</summary>
    static void SameGradient(string what, Func<Tensor, Tensor> f, Tensor x, double rel = 1e-5, double atol = 1e-6)
    {
        using var xc = x.Detach().RequiresGrad_();
        using var xd = x.Cuda().Detach().RequiresGrad_();
        using var yc = f(xc);
        using var w = Rand(99, yc.Shape.ToArray());
        using var lc = (yc * w).Sum();
        lc.Backward();
        using var yd = f(xd);
        using var wd = w.Cuda();
        using var ld = (yd * wd).Sum();
        ld.Backward();
        Same(yc.Detach(), yd.Detach(), rel, what + " (value)", atol);
        Assert.True(xd.Grad!.IsCuda, $"{what}: the gradient should stay on the device");
        Same(xc.Grad!, xd.Grad!, rel, what + " (gradient)", atol);
    }

    /// <summary>
    /// The device composes vector norms from powers and sums but records one norm node, so a zero row (F.normalize,
    /// cosine similarity) and a zero element under p &lt; 2 get the CPU's (PyTorch's) zero gradient, not 0·inf = NaN.
    /// </summary>
    [Fact]
    public void NormGradientsThroughZeroRowsMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var random = Rand(3, 3, 5);
        using var zeroRow = Tensor.From(new float[] { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1 }, 3, 5);
        using var x = random * zeroRow;
        foreach (double p in new[] { 2.0, 1.0, 3.0, 0.5, 1.5 })
            SameGradient($"norm p={p}", t => t.Norm(p, [1]), x);
        SameGradient("normalize", t => F.Normalize(t, dim: 1), x);
        SameGradient("cosine_similarity", t => F.CosineSimilarity(t, Tensor.OnesLike(t)), x);
        using var xc = x.Detach().RequiresGrad_();
        F.Normalize(xc, dim: 1).Sum().Backward();
        Assert.All(xc.Grad!.ToArray<float>(), g => Assert.True(float.IsFinite(g)));
    }

    /// <summary>
    /// Adaptive pools on the device: the averaging matrices are made on the input's device (they were made on the host,
    /// and a CUDA input failed), and the 1-D pools run over them.
    /// </summary>
    [Fact]
    public void AdaptivePoolsMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var image = Rand(7, 2, 3, 7, 5);
        SameGradient("adaptive_avg_pool2d", t => F.AdaptiveAvgPool2d(t, [3, 2]), image);
        SameGradient("adaptive_max_pool2d", t => F.AdaptiveMaxPool2d(t, [2, 2]), image);
        using var sequence = Rand(8, 2, 3, 9);
        SameGradient("adaptive_avg_pool1d", t => F.AdaptiveAvgPool1d(t, 4), sequence);
        SameGradient("adaptive_max_pool1d", t => F.AdaptiveMaxPool1d(t, 4), sequence);
        SameGradient("pixel_shuffle", t => F.PixelUnshuffle(F.PixelShuffle(t.Reshape(2, 12, 1, 3), 2), 2), Rand(9, 2, 12, 3));
    }

    [Fact]
    public void GradientsOfElementwiseOpsMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(1, 4, 6);
        SameGradient("tanh", t => t.Tanh(), x);
        SameGradient("sigmoid", t => t.Sigmoid(), x);
        SameGradient("relu", t => t.Relu(), x);
        SameGradient("gelu", t => t.Gelu(), x);
        SameGradient("silu", t => t.Silu(), x);
        SameGradient("exp", t => t.Exp(), x);
        SameGradient("pow", t => t.Pow(3), x);
        SameGradient("clamp", t => t.Clamp(-0.3, 0.4), x);
        SameGradient("div", t => t / (t.Abs() + 1.0), x);
        SameGradient("broadcast mul", t => t * t.Sum(new[] { 0 }, keepDim: true), x, 1e-4, 1e-5);
        SameGradient("where", t => Tensor.Where(t.Gt(0), t * 2, t.Exp()), x);
    }

    /// <summary>
    /// Attention on the device (the materialised form: the CUDA backend has no streaming kernel): grouped-query SDPA
    /// (key/value heads repeated there for their groups) and a MultiheadAttention layer without returned weights.
    /// </summary>
    [Fact]
    public void AttentionMatchesTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var q = Rand(5, 2, 6, 5, 4);
        using var k = Rand(6, 2, 2, 5, 4);
        using var v = Rand(7, 2, 2, 5, 3);
        using var kd = k.Cuda();
        using var vd = v.Cuda();
        SameGradient("sdpa grouped, causal", t => F.ScaledDotProductAttention(t, t.IsCuda ? kd : k, t.IsCuda ? vd : v, isCausal: true, enableGqa: true), q, 1e-4, 1e-6);
        Generator.ManualSeed(8);
        var mha = new MultiheadAttention(8, 2, batchFirst: true);
        var mhaDevice = new MultiheadAttention(8, 2, batchFirst: true);
        mhaDevice.LoadStateDict(mha.StateDict());
        mhaDevice.To(Device.Cuda());
        using var x = Rand(9, 2, 5, 8);
        SameGradient("multi-head attention", t => (t.IsCuda ? mhaDevice : mha).Forward(t, t, t, needWeights: false).Output, x, 1e-4, 1e-6);
    }

    [Fact]
    public void GradientsOfReductionsAndRowOpsMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(2, 5, 7);
        SameGradient("sum", t => t.Sum(new[] { 1 }), x, 1e-4, 1e-5);
        SameGradient("mean", t => t.Mean(new[] { 0 }), x, 1e-4, 1e-5);
        SameGradient("var", t => t.Var(new[] { 1 }), x, 1e-4, 1e-5);
        SameGradient("max", t => t.Max(), x);
        SameGradient("softmax", t => t.Softmax(1), x, 1e-4, 1e-6);
        SameGradient("log_softmax", t => t.LogSoftmax(0), x, 1e-4, 1e-6);
        SameGradient("logsumexp", t => t.LogSumExp(1), x, 1e-4, 1e-6);
        SameGradient("matmul", t => t.Matmul(t.T), x, 1e-4, 1e-5);
        SameGradient("transpose+contiguous", t => t.T.Contiguous() * 3.0, x);
    }

    [Fact]
    public void GradientsOfIndexingMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(3, 6, 4);
        using var idx = Tensor.From(new long[] { 5, 0, 5, 2, -1 }, 5);
        using var didx = idx.Cuda();
        SameGradientWith("index_select", (t, i) => t.IndexSelect(0, i), x, idx, didx);
        using var g = Tensor.From(new long[] { 0, 3, 3, 1, 2, 2, 0, 1, 1, 1, 3, 0 }, 6, 2);
        SameGradientWith("gather", (t, i) => t.Gather(1, i), x, g, g.Cuda());
        var e = Assert.Throws<KilnException>(() => x.Cuda().IndexSelect(0, Tensor.From(new long[] { 6 }, 1).Cuda()));
        Assert.Contains("index 6 is out of bounds for dimension 0 with size 6", e.Message);
    }

    [Fact]
    public void GradientsOfConvolutionAndPoolingMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        using var x = Rand(21, 2, 3, 9, 8);
        using var w = Rand(22, 4, 3, 3, 3);
        using var b = Rand(23, 4);
        using var w2 = Rand(24, 4, 1, 2, 2);
        SameGradient("conv2d", t => F.Conv2d(t, t.IsCuda ? w.Cuda() : w, t.IsCuda ? b.Cuda() : b, stride: new[] { 2, 1 }, padding: new[] { 1, 2 }), x, 1e-4, 1e-5);
        SameGradient("conv2d dilated", t => F.Conv2d(t, t.IsCuda ? w.Cuda() : w, null, dilation: new[] { 2, 2 }), x, 1e-4, 1e-5);
        SameGradient("max_pool2d", t => F.MaxPool2d(t, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1 }), x);
        SameGradient("avg_pool2d", t => F.AvgPool2d(t, new[] { 2, 3 }, new[] { 2, 2 }, new[] { 1, 1 }), x, 1e-5, 1e-6);
        SameGradient("unfold", t => F.Unfold(t, new[] { 2, 2 }, stride: new[] { 2, 1 }), x);
        SameGradient("batch_norm", t => F.BatchNorm(t, null, null, null, null, training: true), x, 1e-4, 1e-5);
        // Weights' gradients too (groups: one GEMM per channel group).
        using var xc = x.Cuda();
        using var wc = w.Detach().RequiresGrad_();
        using var wd = w.Cuda().Detach().RequiresGrad_();
        F.Conv2d(x, wc, null, padding: new[] { 1, 1 }).Sum().Backward();
        F.Conv2d(xc, wd, null, padding: new[] { 1, 1 }).Sum().Backward();
        Same(wc.Grad!, wd.Grad!, 1e-4, "conv2d weight gradient", 1e-5);
        using var xg = Rand(25, 2, 4, 5, 5);
        Same(F.Conv2d(xg, w2, null, groups: 4), F.Conv2d(xg.Cuda(), w2.Cuda(), null, groups: 4), 1e-4, "grouped conv2d", 1e-5);
        using var wg = w2.Detach().RequiresGrad_();
        using var wgd = w2.Cuda().Detach().RequiresGrad_();
        F.Conv2d(xg, wg, null, groups: 4).Sum().Backward();
        F.Conv2d(xg.Cuda(), wgd, null, groups: 4).Sum().Backward();
        Same(wg.Grad!, wgd.Grad!, 1e-4, "grouped conv2d weight gradient", 1e-5);
    }

    [Fact]
    public void RecurrentLayersMatchTheCpu()
    {
        using var cuda = new EmulatedCuda();
        foreach (var kind in new[] { "lstm", "gru" })
        {
            RecurrentBase Make() => kind == "lstm" ? new LSTM(5, 6, numLayers: 2, bidirectional: true, projSize: 4) : new GRU(5, 6, bidirectional: true);
            Tensor Run(RecurrentBase m, Tensor x) => m is LSTM l ? l.Forward(x).Output : ((GRU)m).Forward(x).Output;
            var cpu = Make();
            var gpu = Make();
            Assert.NotEmpty(cpu.Parameters());
            using (Autograd.NoGrad()) foreach (var (pc, pg) in cpu.Parameters().Zip(gpu.Parameters())) pg.Copy_(pc);
            gpu.To(Device.Cuda());
            using var x = Rand(31, 4, 3, 5);
            using var xc = x.Detach().RequiresGrad_();
            using var xd = x.Cuda().Detach().RequiresGrad_();
            using var yc = Run(cpu, xc);
            using var yd = Run(gpu, xd);
            Same(yc.Detach(), yd.Detach(), 1e-5, kind + " output", 1e-6);
            yc.Sum().Backward();
            yd.Sum().Backward();
            Same(xc.Grad!, xd.Grad!, 1e-4, kind + " input gradient", 1e-6);
            foreach (var (pc, pg) in cpu.Parameters().Zip(gpu.Parameters())) Same(pc.Grad!, pg.Grad!, 1e-4, kind + " weight gradient", 1e-5);
        }
    }

    static void SameGradientWith(string what, Func<Tensor, Tensor, Tensor> f, Tensor x, Tensor index, Tensor deviceIndex) =>
        SameGradient(what, t => f(t, t.IsCuda ? deviceIndex : index), x);

    static Sequential Mlp() => new(new Linear(12, 16), new ReLU(), new Linear(16, 5));

    [Theory]
    [InlineData("adam"), InlineData("adamw"), InlineData("sgd"), InlineData("rmsprop"), InlineData("adagrad")]
    public void TrainingStepsMatchTheCpu(string optimizer)
    {
        using var cuda = new EmulatedCuda();
        var cpu = Mlp();
        var gpu = Mlp();
        using (Autograd.NoGrad())
            foreach (var (pc, pg) in cpu.Parameters().Zip(gpu.Parameters())) pg.Copy_(pc);   // same start, whatever other tests draw
        gpu.To(Device.Cuda());
        Assert.All(gpu.Parameters(), p => Assert.True(p.IsCuda));
        Optimizer Make(Module m) => optimizer switch
        {
            "adam" => new Adam(m.Parameters(), lr: 0.01),
            "adamw" => new AdamW(m.Parameters(), lr: 0.01, weightDecay: 0.1),
            "rmsprop" => new RMSprop(m.Parameters(), lr: 0.01, momentum: 0.5, centered: true),
            "adagrad" => new Adagrad(m.Parameters(), lr: 0.05, lrDecay: 0.01, initialAccumulatorValue: 0.1),
            _ => new SGD(m.Parameters(), lr: 0.05, momentum: 0.9, nesterov: true),
        };
        var oc = Make(cpu);
        var og = Make(gpu);
        using var x = Rand(11, 9, 12);
        using var y = Tensor.From(new long[] { 0, 4, 2, 2, 1, 3, 0, 4, 1 }, 9);
        using var dx = x.Cuda();
        using var dy = y.Cuda();
        for (int step = 0; step < 3; step++)
        {
            oc.ZeroGrad();
            og.ZeroGrad();
            using var lc = F.CrossEntropy(cpu.Forward(x), y);
            using var lg = F.CrossEntropy(gpu.Forward(dx), dy);
            lc.Backward();
            lg.Backward();
            Assert.Equal(lc.Item<float>(), lg.Item<float>(), 1e-5f);
            oc.Step();
            og.Step();
        }
        foreach (var (pc, pg) in cpu.Parameters().Zip(gpu.Parameters()))
            Same(pc.Detach(), pg.Detach(), 1e-4, "parameter after 3 steps", 1e-6);
    }
}
