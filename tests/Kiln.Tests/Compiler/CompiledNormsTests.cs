using System;
using Kiln;
using Kiln.Compilation;
using Kiln.NN;
using Xunit;
using static Kiln.Tests.Compiler.KernelAssert;

namespace Kiln.Tests.Compiler;

/// <summary>The fused RMSNorm, BatchNorm and Embedding kernels compiled models call, against the eager layers with autograd.</summary>
[Collection("Allocator")]
public class CompiledNormsTests
{
    [Theory]
    [InlineData(24)]
    [InlineData(13)]
    public void RmsNormMatchesTheEagerLayer(int d)
    {
        var layer = new RMSNorm(d);
        using (Autograd.NoGrad()) layer.Weight!.Copy_(Tensor.Randn(new[] { d }, generator: new Generator(2)));
        var x = Tensor.Randn(new[] { 3, 5, d }, generator: new Generator(3));
        x.RequiresGrad = true;
        var upstream = Tensor.Randn(new[] { 3, 5, d }, generator: new Generator(4));
        var eager = layer.Forward(x);
        eager.Backward(upstream);
        var (y, rstd) = CompiledOps.RmsNorm(layer, x.Detach());
        Close(eager.Detach(), y, "output");
        var r = CompiledOps.RmsNormBackward(layer, x.Detach(), rstd, upstream);
        Close(x.Grad!, r.Input, "input gradient");
        Close(layer.Weight!.Grad!, r.Weight!, "weight gradient");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNormMatchesTheEagerLayerInTrainingAndEval(bool training)
    {
        Generator.ManualSeed(1);
        var eagerLayer = new BatchNorm1d(4);
        Generator.ManualSeed(1);
        var layer = new BatchNorm1d(4);
        using (Autograd.NoGrad())
            foreach (var l in new[] { eagerLayer, layer })
            {
                l.Weight!.Copy_(Tensor.Randn(new[] { 4 }, generator: new Generator(2)));
                l.RunningMean!.Copy_(Tensor.Randn(new[] { 4 }, generator: new Generator(5)));
            }
        eagerLayer.Train(training); layer.Train(training);
        var x = Tensor.Randn(new[] { 6, 4, 13 }, generator: new Generator(3)) * 2 + 1;
        x.RequiresGrad = true;
        var upstream = Tensor.Randn(new[] { 6, 4, 13 }, generator: new Generator(4));
        var eager = eagerLayer.Forward(x);
        eager.Backward(upstream);
        var f = CompiledOps.BatchNorm(layer, x.Detach());
        Assert.Equal(training, f.BatchStatistics);
        Close(eager.Detach(), f.Output, "output");
        var r = CompiledOps.BatchNormBackward(layer, x.Detach(), f.Mean, f.Rstd, f.BatchStatistics, upstream, needInput: true);
        Close(x.Grad!, r.Input!, "input gradient");
        Close(eagerLayer.Weight!.Grad!, r.Weight!, "weight gradient");
        Close(eagerLayer.Bias!.Grad!, r.Bias!, "bias gradient");
        Close(eagerLayer.RunningMean!, layer.RunningMean!, "running mean");
        Close(eagerLayer.RunningVar!, layer.RunningVar!, "running var");
    }

    [Fact]
    public void EmbeddingTableGradientAddsRepeatedRowsAndSkipsPadding()
    {
        var layer = new Embedding(6, 3, paddingIdx: 2);
        var ids = Tensor.From(new long[] { 1, 2, 1, 5 }, 2, 2);
        var grad = Tensor.Ones(new[] { 2, 2, 3 });
        var y = CompiledOps.Embedding(layer, ids);
        Close(layer.Weight.Detach().Select(0, 5), y.Select(0, 1).Select(0, 1), "row 5");
        var dw = CompiledOps.EmbeddingBackward(layer, ids, grad).ToArray<float>();
        Assert.Equal(new float[] { 0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1 }, dw);
    }

    [Fact]
    public void BadInputsNameTheLayerAndTheShape()
    {
        var bn = Assert.Throws<KilnException>(() => CompiledOps.BatchNorm(new BatchNorm1d(4), Tensor.Randn(3, 5)));
        Assert.Contains("[3, 5]", bn.Message);
        var rms = Assert.Throws<KilnException>(() => CompiledOps.RmsNorm(new RMSNorm(8), Tensor.Randn(3, 5)));
        Assert.Contains("rms_norm", rms.Message);
        var emb = Assert.Throws<KilnException>(() => CompiledOps.Embedding(new Embedding(4, 2), Tensor.From(new long[] { 7 }, 1)));
        Assert.Contains("out of range", emb.Message);
    }
}
