using System;
using Kiln;
using Kiln.Compilation;
using Kiln.NN;
using Xunit;
using static Kiln.Tests.Compiler.KernelAssert;

namespace Kiln.Tests.Compiler;

/// <summary>The softmax (with a fused scale) and the one-pass cross entropy compiled models call, against eager autograd.</summary>
[Collection("Allocator")]
public class CompiledSoftmaxTests
{
    [Theory]
    [InlineData(false, -1)]
    [InlineData(true, -1)]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    public void ScaledSoftmaxMatchesEagerScaleThenSoftmax(bool log, int dim)
    {
        var x = Tensor.Randn(new[] { 3, 5, 19 }, generator: new Generator(1));
        x.RequiresGrad = true;
        var upstream = Tensor.Randn(new[] { 3, 5, 19 }, generator: new Generator(2));
        var scaled = x * 0.35;
        var eager = log ? scaled.LogSoftmax(dim) : scaled.Softmax(dim);
        eager.Backward(upstream);
        var y = CompiledOps.Softmax(x.Detach(), dim, log, 0.35f);
        Close(eager.Detach(), y, "output");
        Close(x.Grad!, CompiledOps.SoftmaxBackward(y, upstream, dim, log, 0.35f), "input gradient");
    }

    [Theory]
    [InlineData(new[] { 6, 5 })]
    [InlineData(new[] { 3, 5, 4 })]
    [InlineData(new[] { 2, 5, 3, 2 })]
    public void OnePassCrossEntropyMatchesEagerWithIgnoredTargets(int[] shape)
    {
        var x = Tensor.Randn(shape, generator: new Generator(3)) * 3;
        x.RequiresGrad = true;
        var targetShape = new int[shape.Length - 1];
        targetShape[0] = shape[0];
        for (int i = 2; i < shape.Length; i++) targetShape[i - 1] = shape[i];
        var t = Tensor.RandInt(0, 5, targetShape, generator: new Generator(4));
        using (Autograd.NoGrad()) t.View(-1).Select(0, 1).Fill_(-100);
        var eager = F.CrossEntropy(x, t);
        eager.Backward(Tensor.Scalar(1.5f));
        var (loss, lse, count) = CompiledOps.CrossEntropy(x.Detach(), t);
        Close(eager.Detach(), loss, "loss");
        Assert.Equal(t.Numel - 1, count);
        Close(x.Grad!, CompiledOps.CrossEntropyBackward(x.Detach(), t, lse, count, Tensor.Scalar(1.5f)), "logits gradient");
    }

    [Fact]
    public void TargetsOutOfRangeOrMisshapenNameTheOp()
    {
        var x = Tensor.Randn(4, 3);
        var bad = Assert.Throws<KilnException>(() => CompiledOps.CrossEntropy(x, Tensor.From(new long[] { 0, 1, 3, 2 }, 4)));
        Assert.Contains("Target out of bounds", bad.Message);
        var shape = Assert.Throws<KilnException>(() => CompiledOps.CrossEntropy(x, Tensor.From(new long[] { 0, 1, 2 }, 3)));
        Assert.Contains("nll_loss", shape.Message);
        var dtype = Assert.Throws<KilnException>(() => CompiledOps.CrossEntropy(x, Tensor.Randn(4)));
        Assert.Contains("int64", dtype.Message);
    }
}
