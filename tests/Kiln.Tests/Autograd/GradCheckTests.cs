using System;
using System.Collections.Generic;
using System.Linq;
using Kiln;
using Kiln.Compiler.Autodiff;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>Every differentiable op passes a float64 finite-difference check.</summary>
public class GradCheckTests
{
    static Tensor R(params int[] shape) => Tensor.Randn(shape, DType.Float64, new Generator((ulong)shape.Sum() * 7 + 1)).RequiresGrad_();
    static Tensor P(params int[] shape) => (Tensor.Rand(shape, DType.Float64, new Generator((ulong)shape.Sum() * 3 + 2)) + 0.5).Detach().RequiresGrad_();
    static Tensor S(double scale, params int[] shape) => (Tensor.Randn(shape, DType.Float64, new Generator((ulong)shape.Sum() * 5 + 3)) * scale).Detach().RequiresGrad_();
    static Tensor Idx(params long[] v) => Tensor.From(v, v.Length);

    /// <summary>op name (as filed in Derivatives) → function and inputs.</summary>
    public static readonly Dictionary<string, (Func<Tensor[], Tensor> Fn, Func<Tensor[]> Inputs)> Checks = new()
    {
        ["add"] = (x => x[0] + x[1], () => [R(3, 4), R(4)]),
        ["sub"] = (x => x[0] - x[1], () => [R(3, 1), R(1, 4)]),
        ["mul"] = (x => x[0] * x[1], () => [R(3, 4), R(3, 4)]),
        ["div"] = (x => x[0] / x[1], () => [R(2, 3), P(3)]),
        ["maximum"] = (x => x[0].Maximum(x[1]), () => [R(5), R(5) * 2]),
        ["minimum"] = (x => x[0].Minimum(x[1]), () => [R(5), R(5) * 2]),
        ["pow"] = (x => x[0].Pow(x[1]), () => [P(4), R(4)]),
        ["pow_scalar"] = (x => x[0].Pow(2.5), () => [P(4)]),
        ["neg"] = (x => -x[0], () => [R(4)]),
        ["abs"] = (x => x[0].Abs(), () => [R(6)]),
        ["exp"] = (x => x[0].Exp(), () => [R(4)]),
        ["log"] = (x => x[0].Log(), () => [P(4)]),
        ["log1p"] = (x => x[0].Log1p(), () => [P(4)]),
        ["sqrt"] = (x => x[0].Sqrt(), () => [P(4)]),
        ["rsqrt"] = (x => x[0].Rsqrt(), () => [P(4)]),
        ["sin"] = (x => x[0].Sin(), () => [R(4)]),
        ["cos"] = (x => x[0].Cos(), () => [R(4)]),
        ["tanh"] = (x => x[0].Tanh(), () => [R(4)]),
        ["sigmoid"] = (x => x[0].Sigmoid(), () => [R(4)]),
        ["relu"] = (x => x[0].Relu(), () => [R(6)]),
        ["gelu"] = (x => x[0].Gelu() + x[0].Gelu("tanh"), () => [R(6)]),
        ["silu"] = (x => x[0].Silu(), () => [R(6)]),
        ["softplus"] = (x => x[0].Softplus(2, 3), () => [R(6)]),
        ["normal_pdf"] = (x => x[0].NormalPdf(), () => [R(6)]),
        ["normal_cdf"] = (x => x[0].NormalCdf(), () => [R(6)]),
        ["clamp"] = (x => x[0].Clamp(-0.5, 0.5), () => [R(8)]),
        ["where"] = (x => Tensor.Where(x[0].Gt(0), x[0], x[1]), () => [R(3, 4), R(4)]),
        ["to"] = (x => x[0].To(DType.Float32).To(DType.Float64) * 1.0, () => [R(3)]),
        ["alias"] = (x => x[0].To(DType.Float64), () => [R(3)]),
        ["contiguous"] = (x => x[0].Contiguous(), () => [R(3)]),
        ["clone"] = (x => x[0].Clone(), () => [R(3)]),
        ["copy"] = (x => { var t = Tensor.Zeros(new[] { 2, 3 }, DType.Float64); t.Copy_(x[0]); return t * 2; }, () => [R(3)]),
        ["sum"] = (x => x[0].Sum(new[] { 1 }, keepDim: true), () => [R(3, 4)]),
        ["mean"] = (x => x[0].Mean(new[] { 0, 2 }), () => [R(2, 3, 4)]),
        ["prod"] = (x => x[0].Prod(1), () => [P(3, 4)]),
        ["var"] = (x => x[0].Var(new[] { 1 }), () => [R(3, 5)]),
        ["std"] = (x => x[0].Std(new[] { 0 }, correction: 0), () => [R(4, 3)]),
        ["norm"] = (x => x[0].Norm(2, new[] { 1 }) + x[0].Norm(3, new[] { 1 }) + x[0].Norm(1, new[] { 1 }) + x[0].Norm(double.PositiveInfinity, new[] { 1 }), () => [R(3, 5)]),
        ["logsumexp"] = (x => x[0].LogSumExp(1), () => [R(3, 5)]),
        ["max"] = (x => x[0].Max() + x[0].Min(), () => [R(7)]),
        ["min"] = (x => x[0].Min(), () => [R(7)]),
        ["floor"] = (x => x[0].Floor() * x[0], () => [R(6)]),
        ["ceil"] = (x => x[0].Ceil() * x[0], () => [R(6)]),
        ["round"] = (x => x[0].Round() * x[0], () => [R(6)]),
        ["trunc"] = (x => x[0].Trunc() * x[0], () => [R(6)]),
        ["sign"] = (x => x[0].Sign() * x[0], () => [R(6)]),
        ["erf"] = (x => x[0].Erf(), () => [R(6)]),
        ["log2"] = (x => x[0].Log2(), () => [P(4)]),
        ["log10"] = (x => x[0].Log10(), () => [P(4)]),
        ["tan"] = (x => x[0].Tan(), () => [S(0.5, 5)]),
        ["asin"] = (x => x[0].Asin(), () => [S(0.3, 5)]),
        ["acos"] = (x => x[0].Acos(), () => [S(0.3, 5)]),
        ["atan"] = (x => x[0].Atan(), () => [R(5)]),
        ["atan2"] = (x => x[0].Atan2(x[1]), () => [R(3, 4), R(4)]),
        ["remainder"] = (x => x[0].Remainder(x[1]), () => [S(3, 3, 4), P(4)]),
        ["max_dim"] = (x => x[0].Max(1).Values, () => [R(3, 5)]),
        ["min_dim"] = (x => x[0].Min(0, keepDim: true).Values, () => [R(3, 5)]),
        ["softmax"] = (x => x[0].Softmax(1), () => [R(3, 5)]),
        ["log_softmax"] = (x => x[0].LogSoftmax(0), () => [R(3, 5)]),
        ["cumsum"] = (x => x[0].CumSum(1), () => [R(3, 5)]),
        ["matmul"] = (x => x[0].Matmul(x[1]).Sum() + x[2].Matmul(x[3]).Sum(), () => [R(2, 3, 4), R(4, 2), R(4), R(2, 4, 3)]),
        ["bmm"] = (x => x[0].Bmm(x[1]), () => [R(2, 3, 4), R(2, 4, 2)]),
        ["addmm"] = (x => Tensor.Addmm(x[0], x[1], x[2], 0.5, 2), () => [R(3), R(2, 4), R(4, 3)]),
        ["view"] = (x => x[0].View(4, 3), () => [R(3, 4)]),
        ["reshape"] = (x => x[0].T.Reshape(12), () => [R(3, 4)]),
        ["flatten"] = (x => x[0].Flatten(), () => [R(2, 3)]),
        ["unflatten"] = (x => x[0].Unflatten(0, 2, 3), () => [R(6)]),
        ["squeeze"] = (x => x[0].Squeeze(), () => [R(1, 3, 1)]),
        ["unsqueeze"] = (x => x[0].Unsqueeze(1), () => [R(3)]),
        ["permute"] = (x => x[0].Permute(2, 0, 1), () => [R(2, 3, 4)]),
        ["transpose"] = (x => x[0].Transpose(0, 2), () => [R(2, 3, 4)]),
        ["expand"] = (x => x[0].Expand(4, 3), () => [R(1, 3)]),
        ["narrow"] = (x => x[0].Narrow(1, 1, 2), () => [R(3, 4)]),
        ["slice"] = (x => x[0][.., TensorIndex.Slice(0, 5, 2)], () => [R(3, 5)]),
        ["select"] = (x => x[0][1], () => [R(3, 4)]),
        ["pad_slice"] = (x => Autograd.Grad(x[0][.., 1..3].Pow(2).Sum(), x[0], createGraph: true), () => [R(3, 4)]),
        ["cat"] = (x => Tensor.Cat(new[] { x[0], x[1] }, 1), () => [R(2, 3), R(2, 2)]),
        ["index_select"] = (x => x[0].IndexSelect(0, Idx(2, 0, 2)), () => [R(3, 4)]),
        ["gather"] = (x => x[0].Gather(1, Tensor.From(new long[] { 0, 3, 1, 1, 2, 0 }, 3, 2)), () => [R(3, 4)]),
        ["scatter"] = (x => x[0].Scatter(1, Tensor.From(new long[] { 0, 3, 2, 1 }, 2, 2), x[1]), () => [R(2, 4), R(2, 2)]),
        ["scatter_add"] = (x => x[0].ScatterAdd(1, Tensor.From(new long[] { 0, 0, 2, 1 }, 2, 2), x[1]), () => [R(2, 4), R(2, 2)]),
        ["tril"] = (x => x[0].Tril(), () => [R(3, 3)]),
        ["triu"] = (x => x[0].Triu(1), () => [R(3, 4)]),
        ["im2col"] = (x => Kiln.NN.F.Unfold(x[0], [2, 3], [1, 2], [1, 0], [2, 1]), () => [R(2, 2, 5, 6)]),
        ["col2im"] = (x => Kiln.NN.F.Fold(x[0], [4, 5], [2, 2], null, [1, 1], [2, 1]), () => [R(2, 8, 18)]),
        ["conv2d"] = (x => Kiln.NN.F.Conv2d(x[0], x[1], x[2], [2, 1], [1, 0], [1, 2], groups: 2), () => [R(2, 4, 5, 6), R(6, 2, 2, 3), R(6)]),
        ["max_pool2d"] = (x => Kiln.NN.F.MaxPool2d(x[0], [3, 2], [2, 1], [1, 1], [1, 2], ceilMode: true), () => [R(2, 3, 7, 6)]),
        // Second order through the createGraph path: the gradient of the pooled gradient's weighted sum.
        ["max_pool2d_double"] = (x => Autograd.Grad((Kiln.NN.F.MaxPool2d(x[0], [2]).Pow(2)).Sum(), x[0], createGraph: true)[0], () => [R(1, 2, 4, 4)]),
        ["layer_norm"] = (x => Kiln.NN.F.LayerNorm(x[0], [3, 4], x[1], x[2]) + Kiln.NN.F.LayerNorm(x[0], [4]).Sum(), () => [R(2, 3, 4), R(3, 4), R(3, 4)]),
        ["rms_norm"] = (x => Kiln.NN.F.RmsNorm(x[0], [3, 4], x[1]) + Kiln.NN.F.RmsNorm(x[0], [4]).Sum(), () => [R(2, 3, 4), R(3, 4)]),
        // Both gradients (input and target), mean and sum, and a second derivative through the rule.
        ["mse_loss"] = (x => Kiln.NN.F.MseLoss(x[0], x[1]) + Kiln.NN.F.MseLoss(x[1], x[0], Kiln.NN.Reduction.Sum) * 0.1
                             + Autograd.Grad([Kiln.NN.F.MseLoss(x[0], x[1])], [x[0]], createGraph: true)[0]!.Pow(2).Sum(), () => [R(3, 4), R(3, 4)]),
        // Batch statistics (with a running update), then running statistics; BatchNorm1d's [N, C] form (S = 1) too.
        ["batch_norm"] = (x => Kiln.NN.F.BatchNorm(x[0], Tensor.Zeros([3], DType.Float64), Tensor.Ones([3], DType.Float64), x[1], x[2], training: true)
                             + Kiln.NN.F.BatchNorm(x[0], Tensor.Randn([3], DType.Float64, new Generator(9)), Tensor.Rand([3], DType.Float64, new Generator(8)) + 0.5, x[1], null).Pow(2)
                             + Kiln.NN.F.BatchNorm(x[0].Reshape(2, 3, 4, 5).Permute(0, 1, 3, 2), null, null, null, x[2]).Sum()
                             + Kiln.NN.F.BatchNorm(x[0].Sum([2, 3]), null, null, x[1], x[2], training: true).Pow(2).Sum(),
            () => [R(2, 3, 4, 5), R(3), R(3)]),
        // Second order: the gradient of a weighted sum of the normalised batch, differentiated again.
        ["batch_norm_double"] = (x =>
        {
            var g = Autograd.Grad([(Kiln.NN.F.BatchNorm(x[0], null, null, x[1], x[2], training: true).Pow(3) * x[3]).Sum()], [x[0], x[1]], createGraph: true);
            return (g[0]! * x[3]).Sum() + g[1]!.Pow(2).Sum();
        }, () => [R(3, 2, 4), R(2), R(2), R(3, 2, 4)]),
        ["gru_layer"] = (x => Tensor.GruLayerOp(x[0], x[1], x[2], x[3], reverse: false).Sum() + Tensor.GruLayerOp(x[0], x[1], x[2], null, reverse: true).Pow(2).Sum(),
            () => [R(4, 2, 9), R(2, 3), R(9, 3), R(9)]),
        ["lstm_layer"] = (x => Tensor.LstmLayerOp(x[0], x[1], x[2], x[3], null, reverse: false).Sum()
                               + Tensor.LstmLayerOp(x[0], x[1], x[2], x[3], null, reverse: true).Pow(2).Sum()
                               + Tensor.LstmLayerOp(x[0], x[4], x[2], x[5], x[6], reverse: false).Pow(2).Sum(),   // with a projection to 2
            () => [R(4, 2, 12), R(2, 3), R(2, 3), R(12, 3), R(2, 2), R(12, 2), R(2, 3)]),
        // Sequence lengths (unsorted, one running every step, one a single step): held states pass their gradient on.
        ["lstm_layer_lengths"] = (x => (Tensor.LstmLayerOp(x[0], x[1], x[2], x[3], null, reverse: false, Idx(2, 4, 1)) * x[7]).Sum()
                                       + Tensor.LstmLayerOp(x[0], x[1], x[2], x[3], null, reverse: true, Idx(2, 4, 1)).Pow(2).Sum()
                                       + Tensor.LstmLayerOp(x[0], x[4], x[2], x[5], x[6], reverse: true, Idx(3, 1, 4)).Pow(2).Sum(),
            () => [R(4, 3, 12), R(3, 3), R(3, 3), R(12, 3), R(3, 2), R(12, 2), R(2, 3), R(4, 3, 6)]),
        ["gru_layer_lengths"] = (x => (Tensor.GruLayerOp(x[0], x[1], x[2], x[3], reverse: false, Idx(2, 4, 1)) * x[4]).Sum()
                                      + Tensor.GruLayerOp(x[0], x[1], x[2], null, reverse: true, Idx(1, 3, 4)).Pow(2).Sum(),
            () => [R(4, 3, 9), R(3, 3), R(9, 3), R(9), R(4, 3, 3)]),
        // Tables broadcast over x's leading dims (their gradients summed back); halves of 3 leave the vector body empty.
        ["rope"] = (x => Kiln.NN.F.RotaryEmbedding(x[0], x[1], x[2]), () => [R(2, 3, 6), R(3, 6), R(6)]),
        ["swiglu"] = (x => Kiln.NN.F.SwiGlu(x[0], x[1]), () => [S(3, 3, 4), R(4)]),
        // 66 queries x 130 keys crosses both the query (64) and key (128) blocks of the streaming kernel.
        ["sdpa"] = (x => Kiln.NN.F.ScaledDotProductAttention(x[0], x[1], x[2], attnMask: Tensor.Randn([66, 130], DType.Float64, new Generator(5)))
                       + Kiln.NN.F.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true), () => [R(66, 2), R(130, 2), R(130, 2)]),
        // Grouped: 6 query heads over 2 key/value heads (each key/value gradient sums its group of 3).
        ["sdpa_grouped"] = (x => Kiln.NN.F.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true, enableGqa: true), () => [R(2, 6, 5, 3), R(2, 2, 5, 3), R(2, 2, 5, 4)]),
    };

    /// <summary>Finite-difference steps other than the default, where float32 rounding needs a larger one.</summary>
    static readonly Dictionary<string, double> Eps = new() { ["to"] = 1e-2 };

    public static TheoryData<string> Ops()
    {
        var d = new TheoryData<string>();
        foreach (var k in Checks.Keys) d.Add(k);
        return d;
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void FiniteDifferencesAgree(string op)
    {
        var (fn, inputs) = Checks[op];
        Assert.True(Autograd.GradCheck(fn, inputs(), eps: Eps.GetValueOrDefault(op, 1e-6)));
    }

    [Fact]
    public void EveryDerivativeRuleIsChecked()
    {
        var rules = typeof(Derivatives).GetField("Known", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .GetValue(null) as HashSet<string>;
        var missing = rules!.Where(r => !Checks.ContainsKey(r)).ToArray();
        Assert.True(missing.Length == 0, "ops without a gradcheck: " + string.Join(", ", missing));
    }

    [Fact]
    public void GradCheckCatchesAWrongDerivative()
    {
        // A function whose graph lies about its derivative: detach hides half of x*x.
        var e = Assert.Throws<KilnException>(() => Autograd.GradCheck(x => x[0] * x[0].Detach(), new[] { R(3) }));
        Assert.Contains("Jacobian mismatch", e.Message);
    }
}
