using System;
using Kiln;
using Kiln.Compilation;
using Kiln.Kernels.Gemm;
using Kiln.NN;
using Xunit;
using static Kiln.Tests.Compiler.KernelAssert;

namespace Kiln.Tests.Compiler;

/// <summary>A Linear with its ReLU and dropout in the GEMM epilogue, and the gated backward, against eager autograd.</summary>
[Collection("Allocator")]
public class FusedLinearTests
{
    [Theory]
    [InlineData(new[] { 2, 7, 11 }, 0.0)]
    [InlineData(new[] { 3, 11 }, 0.4)]
    [InlineData(new[] { 40, 11 }, 0.4)]
    public void ReluAndDropoutInTheEpilogueGiveEagerValuesAndGradients(int[] shape, double p)
    {
        var g = new Generator(11);
        var x = Tensor.Randn(shape, generator: g);
        var w = Tensor.Randn(new[] { 13, 11 }, generator: g);
        var b = Tensor.Randn(new[] { 13 }, generator: g);
        x.RequiresGrad = true; w.RequiresGrad = true; b.RequiresGrad = true;
        var outShape = (int[])shape.Clone();
        outShape[^1] = 13;
        var mask = Tensor.DropoutMask(outShape, p, DType.Float32, new Generator(5));
        var eager = F.Linear(x, w, b).Relu() * mask;
        var upstream = Tensor.Randn(outShape, generator: g);
        eager.Backward(upstream);

        var factors = mask.ToArray<float>();
        var (y, pre) = FusedLinear.Forward(x.Detach(), w.Detach(), b.Detach(), GemmActivation.Relu, factors, keepPreActivation: false);
        Assert.Null(pre);
        Close(eager.Detach(), y, "output");
        var r = FusedLinear.Backward(x.Detach(), w.Detach(), true, upstream, y, FusedLinear.DropoutScale(p > 0, p), needInput: true);
        Close(x.Grad!, r.Input!, "input gradient");
        Close(w.Grad!, r.Weight, "weight gradient");
        Close(b.Grad!, r.Bias!, "bias gradient");
    }

    [Theory]
    [InlineData(GemmActivation.None)]
    [InlineData(GemmActivation.GeluTanh)]
    [InlineData(GemmActivation.Relu)]
    public void AWeightStoredInOutIsReadInPlaceWithTheSameResults(GemmActivation activation)
    {
        // GPT-2's Conv1D keeps W [in, out]; the compiled GEMM gets the [out, in] view Wᵀ and must equal the dense copy.
        var g = new Generator(21);
        var x = Tensor.Randn(new[] { 2, 9, 24 }, generator: g);
        var stored = Tensor.Randn(new[] { 24, 40 }, generator: g);   // [in, out]
        var b = Tensor.Randn(new[] { 40 }, generator: g);
        var view = stored.T;
        Assert.False(view.IsContiguous);
        var dense = view.Contiguous();
        var (yView, preView) = FusedLinear.Forward(x, view, b, activation, null, keepPreActivation: activation != GemmActivation.None);
        var (yDense, preDense) = FusedLinear.Forward(x, dense, b, activation, null, keepPreActivation: activation != GemmActivation.None);
        Assert.Equal(yDense.ToArray<float>(), yView.ToArray<float>());
        if (preDense is not null) Assert.Equal(preDense.ToArray<float>(), preView!.ToArray<float>());
        var upstream = Tensor.Randn(new[] { 2, 9, 40 }, generator: g);
        var output = activation == GemmActivation.Relu ? yDense : null;
        var rView = FusedLinear.Backward(x, view, true, upstream, output, 1f, needInput: true);
        var rDense = FusedLinear.Backward(x, dense, true, upstream, output, 1f, needInput: true);
        // The weight's gradient comes in the stored layout (xᵀ·dZ, a transposed view), and a gate is applied once up front:
        // other summation orders, so these agree to rounding.
        Close(rDense.Input!, rView.Input!, "input gradient");
        Close(rDense.Weight, rView.Weight, "weight gradient");
        Close(rDense.Bias!, rView.Bias!, "bias gradient");
        Assert.Equal(new long[] { 1, 40 }, new[] { rView.Weight.Stride(0), rView.Weight.Stride(1) });
        // And against eager autograd on the stored weight: x·W + b.
        var xe = x.Detach(); var we = stored.Detach(); var be = b.Detach();
        xe.RequiresGrad = true; we.RequiresGrad = true; be.RequiresGrad = true;
        (xe.Matmul(we) + be).Backward(upstream);
        if (activation == GemmActivation.None)
        {
            Close(xe.Grad!, rView.Input!, "input gradient");
            Close(we.Grad!, rView.Weight.T, "weight gradient, stored layout");
        }
    }

    [Fact]
    public void WithoutAGateTheBackwardIsThePlainLinears()
    {
        var g = new Generator(12);
        var x = Tensor.Randn(new[] { 3, 5, 7 }, generator: g);
        var w = Tensor.Randn(new[] { 4, 7 }, generator: g);
        var b = Tensor.Randn(new[] { 4 }, generator: g);
        x.RequiresGrad = true; w.RequiresGrad = true; b.RequiresGrad = true;
        var upstream = Tensor.Randn(new[] { 3, 5, 4 }, generator: g);
        F.Linear(x, w, b).Backward(upstream);
        var r = FusedLinear.Backward(x.Detach(), w.Detach(), true, upstream, null, 1f, needInput: true);
        Close(x.Grad!, r.Input!, "input gradient");
        Close(w.Grad!, r.Weight, "weight gradient");
        Close(b.Grad!, r.Bias!, "bias gradient");
        Assert.Null(FusedLinear.Backward(x.Detach(), w.Detach(), false, upstream, null, 1f, needInput: false).Input);
    }

    [Fact]
    public void OtherDtypesGetAClearErrorNotMisreadMemory()
    {
        var e = Assert.Throws<KilnException>(() => FusedLinear.Forward(Tensor.Randn(2, 3), Tensor.Randn(new[] { 4, 3 }, DType.Float64), null, GemmActivation.None, null, false));
        Assert.Contains("float64", e.Message);
        var grad = Assert.Throws<KilnException>(() => FusedLinear.Backward(Tensor.Randn(2, 3), Tensor.Randn(4, 3), true, Tensor.Randn(2, 5), null, 1f, true));
        Assert.Contains("[2, 5]", grad.Message);
    }

    [Fact]
    public void AWrongInputWidthNamesTheLayerAndTheShapes()
    {
        var x = Tensor.Randn(4, 10);
        var w = Tensor.Randn(6, 11);
        var e = Assert.Throws<KilnException>(() => FusedLinear.Forward(x, w, null, GemmActivation.Relu, null, false));
        Assert.Contains("linear", e.Message);
        Assert.Contains("[4, 10]", e.Message);
    }

    [Fact]
    public void AShortMultiplierIsRefusedBeforeAnythingIsWritten()
    {
        var e = Assert.Throws<KilnException>(() => FusedLinear.Forward(Tensor.Randn(4, 3), Tensor.Randn(5, 3), null, GemmActivation.None, new float[19], false));
        Assert.Contains("19", e.Message);
    }
}
