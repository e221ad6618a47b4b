using System;
using Kiln;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// The gradient of a product's second operand comes back laid out as that operand: for a weight read transposed (a
/// Linear's Wᵀ) the transpose's backward then hands the weight a row-major gradient, with the values of aᵀ·g.
/// </summary>
public class ProductGradientLayoutTests
{
    [Theory]
    [InlineData(false, 1.0)]
    [InlineData(true, 1.0)]
    [InlineData(true, 0.5)]
    public void ATransposedOperandsGradientIsLaidOutLikeIt(bool addmm, double alpha)
    {
        var g = new Generator(4);
        var x = Tensor.Randn(new[] { 7, 5 }, generator: g);
        var w = Tensor.Randn(new[] { 3, 5 }, generator: g).RequiresGrad_();   // [out, in], read as wᵀ
        var bias = Tensor.Randn(new[] { 3 }, generator: g);
        var seed = Tensor.Randn(new[] { 7, 3 }, generator: g);
        var wt = w.T;
        var y = addmm ? Tensor.Addmm(bias, x, wt, alpha: alpha) : x.Matmul(wt);
        var gwt = Autograd.Grad([(y * seed).Sum()], [wt], retainGraph: true)[0]!;
        // Transposed like wᵀ itself: column-major [5, 3].
        Assert.Equal(new[] { 5, 3 }, gwt.ShapeArray);
        Assert.Equal(1, gwt.Stride(0));
        Assert.Equal(5, gwt.Stride(1));
        (y * seed).Sum().Backward();
        Assert.True(w.Grad!.IsContiguous);
        // dW = alpha · seedᵀ · x, against a double reference.
        float[] xs = x.ToArray<float>(), ss = seed.ToArray<float>(), got = w.Grad.ToArray<float>();
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 5; i++)
            {
                double r = 0;
                for (int t = 0; t < 7; t++) r += ss[t * 3 + o] * (double)xs[t * 5 + i];
                r *= addmm ? alpha : 1;
                Assert.True(Math.Abs(got[o * 5 + i] - r) <= 1e-5 * Math.Max(1, Math.Abs(r)), $"dW[{o},{i}]: {got[o * 5 + i]} vs {r}");
            }
    }

    [Fact]
    public void ALinearLayersWeightGradientIsRowMajorAndRight()
    {
        var g = new Generator(6);
        var layer = new Linear(40, 24);
        var x = Tensor.Randn(new[] { 3, 9, 40 }, generator: g);
        var y = layer.Forward(x);
        (y * y).Sum().Backward();
        Assert.True(layer.Weight.Grad!.IsContiguous);
        // dW[o, i] = Σ_t 2·y[t, o]·x[t, i] over the 27 folded rows.
        float[] ys = y.Detach().ToArray<float>(), xs = x.ToArray<float>(), got = layer.Weight.Grad.ToArray<float>();
        for (int o = 0; o < 24; o++)
            for (int i = 0; i < 40; i++)
            {
                double r = 0;
                for (int t = 0; t < 27; t++) r += 2.0 * ys[t * 24 + o] * xs[t * 40 + i];
                Assert.True(Math.Abs(got[o * 40 + i] - r) <= 1e-4 * Math.Max(1, Math.Abs(r)), $"dW[{o},{i}]: {got[o * 40 + i]} vs {r}");
            }
    }
}
