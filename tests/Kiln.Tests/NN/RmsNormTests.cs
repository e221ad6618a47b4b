using System;
using System.Linq;
using Kiln.NN;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// RMS norm's forms: with nothing to differentiate one fused pass, recorded on the CPU one fused op (whose gradient
/// differentiates again); and half precision normalised in float32 and rounded once, as PyTorch and Hugging Face do. The values
/// themselves are PyTorch's golden cases (<c>rms_norm*</c> in tensor_ops.json, gradients in GradientGoldenTests).
/// </summary>
public class RmsNormTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bf16IsRoundedOnceBeforeTheWeightLikePyTorch(bool recorded)
    {
        var c = GoldenData.Case("rms_norm_bf16");
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(GoldenData.Build).ToArray();
        var weight = recorded ? inputs[1].Detach().RequiresGrad_() : inputs[1];
        var y = F.RmsNorm(inputs[0], [64], weight, 1e-5);
        Assert.Equal(DType.BFloat16, y.DType);
        var got = y.To(DType.Float32).ToArray<float>();
        var want = c.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(e => (float)GoldenData.ReadDouble(e)).ToArray();
        // One bfloat16 rounding apart at most (2^-8 relative): normalising in bfloat16 op by op drifted up to 1.2 %.
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= Math.Abs(want[i]) / 256, $"[{i}] {got[i]} vs PyTorch {want[i]}");
    }

    [Theory]
    [InlineData(new[] { 5, 33 }, new[] { 33 })]      // a vector body and a tail
    [InlineData(new[] { 2, 3, 4, 7 }, new[] { 4, 7 })] // over two trailing dims
    public void TheFusedInferencePassEqualsTheRecordedOps(int[] shape, int[] normalized)
    {
        var g = new Generator(5);
        var x = Tensor.Randn(shape, generator: g) * 3;
        var w = Tensor.Randn(normalized, generator: g);
        Tensor fused;
        using (Autograd.NoGrad()) fused = F.RmsNorm(x, normalized, w, 1e-6);
        var leaf = x.Detach().RequiresGrad_();
        var recorded = F.RmsNorm(leaf, normalized, w, 1e-6);
        Assert.NotNull(recorded.GradFn);
        Assert.Null(fused.GradFn);
        var a = fused.ToArray<float>();
        var b = recorded.Detach().ToArray<float>();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 * (1 + Math.Abs(b[i])), $"[{i}] {a[i]} vs {b[i]}");
    }

    [Theory]
    [InlineData(new[] { 5, 40 }, new[] { 40 }, true)]      // two 16-lane blocks and an 8-value tail, with the weight
    [InlineData(new[] { 3, 768 }, new[] { 768 }, true)]    // a decode step's rows
    [InlineData(new[] { 2, 3, 4, 7 }, new[] { 4, 7 }, false)] // over two trailing dims, no weight: the tail alone
    public void TheOnePassBf16NormEqualsTheComposedOpsBitForBit(int[] shape, int[] normalized, bool withWeight)
    {
        // Without a graph a bf16 norm is one pass; with one it is the composed ops (widen, float32 norm, round, bf16 product).
        var g = new Generator(6);
        var x = (Tensor.Randn(shape, generator: g) * 3).To(DType.BFloat16);
        var w = withWeight ? Tensor.Randn(normalized, generator: g).To(DType.BFloat16) : null;
        Tensor fused;
        using (Autograd.NoGrad()) fused = F.RmsNorm(x, normalized, w, 1e-6);
        var recorded = F.RmsNorm(x.Detach().RequiresGrad_(), normalized, w, 1e-6);
        Assert.NotNull(recorded.GradFn);
        Assert.Equal(DType.BFloat16, fused.DType);
        Assert.Equal(recorded.ShapeArray, fused.ShapeArray);
        Assert.Equal(Array.ConvertAll(recorded.Detach().ToArray<BFloat16>(), v => v.Bits), Array.ConvertAll(fused.ToArray<BFloat16>(), v => v.Bits));
    }

    /// <summary>
    /// Training on the CPU records one fused op; a gradient built with createGraph differentiates again (its rule writes
    /// the gradient as recorded ops): the second derivative equals that of the norm written out, in float64.
    /// </summary>
    [Fact]
    public void TheFusedOpDifferentiatesTwiceLikeTheComposedOps()
    {
        var g = new Generator(8);
        var x0 = Tensor.Randn([3, 2, 5], DType.Float64, g);
        var w0 = Tensor.Randn([2, 5], DType.Float64, g);
        var c = Tensor.Randn([3, 2, 5], DType.Float64, g);
        (double[] X, double[] W) SecondOrder(Func<Tensor, Tensor, Tensor> norm)
        {
            var x = x0.Detach().RequiresGrad_();
            var w = w0.Detach().RequiresGrad_();
            var first = Autograd.Grad([(norm(x, w) * c).Sum()], [x, w], createGraph: true);
            ((first[0]! * first[0]!).Sum() + (first[1]! * x.Sum([0])).Sum()).Backward();
            return (x.Grad!.ToArray<double>(), w.Grad!.ToArray<double>());
        }
        var fused = SecondOrder((x, w) => F.RmsNorm(x, [2, 5], w, 1e-6));
        var composed = SecondOrder((x, w) => x * ((x * x).Mean([1, 2], keepDim: true) + 1e-6).Rsqrt() * w);
        Assert.Equal("RmsNormBackward", F.RmsNorm(x0.Detach().RequiresGrad_(), [2, 5], w0, 1e-6).GradFn!.Name);   // one node, not the composed chain
        for (int i = 0; i < composed.X.Length; i++) Assert.True(Math.Abs(fused.X[i] - composed.X[i]) <= 1e-10 * (1 + Math.Abs(composed.X[i])), $"x [{i}] {fused.X[i]} vs {composed.X[i]}");
        for (int i = 0; i < composed.W.Length; i++) Assert.True(Math.Abs(fused.W[i] - composed.W[i]) <= 1e-10 * (1 + Math.Abs(composed.W[i])), $"w [{i}] {fused.W[i]} vs {composed.W[i]}");
    }

    [Fact]
    public void ABadShapeNamesTheOpInEitherForm()
    {
        var x = Tensor.Randn(3, 5);
        using (Autograd.NoGrad())
            Assert.Contains("rms_norm", Assert.Throws<KilnException>(() => F.RmsNorm(x, [4])).Message);
        Assert.Contains("rms_norm", Assert.Throws<KilnException>(() => F.RmsNorm(x.RequiresGrad_(), [4])).Message);
    }
}
