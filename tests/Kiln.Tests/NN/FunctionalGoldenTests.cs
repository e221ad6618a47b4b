using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Kiln.Compiler.Shapes;
using Kiln.NN;
using Xunit;
using static Kiln.Tests.NN.NNGolden;

namespace Kiln.Tests.NN;

/// <summary>F.* functions and every loss against PyTorch: values and input gradients.</summary>
public class FunctionalGoldenTests
{
    public static IEnumerable<object[]> FunctionalCases() => Names("functional");
    public static IEnumerable<object[]> LossCases() => Names("losses");

    static Tensor CallFunctional(JsonElement a, Tensor?[] x) => a.GetProperty("op").GetString() switch
    {
        "sdpa" => x.Length > 3
            ? F.ScaledDotProductAttention(x[0]!, x[1]!, x[2]!, x[3], scale: a.TryGetProperty("scale", out var s) ? s.GetDouble() : null, enableGqa: Bool(a, "gqa"))
            : F.ScaledDotProductAttention(x[0]!, x[1]!, x[2]!, isCausal: Bool(a, "causal"), enableGqa: Bool(a, "gqa")),
        "pad" => F.Pad(x[0]!, Ints(a, "pad"), Str(a, "mode")!, Dbl(a, "value", 0)),
        "interpolate" => F.Interpolate(x[0]!, a.TryGetProperty("size", out _) ? Ints(a, "size") : null,
            a.TryGetProperty("scale", out var sc) ? sc.EnumerateArray().Select(e => e.GetDouble()).ToArray() : null, Str(a, "mode")!, Bool(a, "align_corners")),
        "unfold" => F.Unfold(x[0]!, Ints(a, "k"), Ints(a, "dilation"), Ints(a, "padding"), Ints(a, "stride")),
        "fold" => F.Fold(x[0]!, Ints(a, "size"), Ints(a, "k")),
        "one_hot" => F.OneHot(x[0]!, Int(a, "classes", -1)),
        "rope" => F.RotaryEmbedding(x[0]!, x[1]!, x[2]!),
        "swiglu" => F.SwiGlu(x[0]!, x[1]!),
        "fractional_max_pool2d" => Bool(a, "indices")
            ? F.FractionalMaxPool2dWithIndices(x[0]!, Ints(a, "k"), a.TryGetProperty("size", out _) ? Ints(a, "size") : null, null, x[1]).Indices
            : F.FractionalMaxPool2d(x[0]!, Ints(a, "k"), a.TryGetProperty("size", out _) ? Ints(a, "size") : null,
                a.TryGetProperty("ratio", out var ratio) ? ratio.EnumerateArray().Select(e => e.GetDouble()).ToArray() : null, x[1]),
        "max_unpool2d" => F.MaxUnpool2d(x[0]!, x[1]!, [Int(a, "k", 1)], [Int(a, "stride", 1)], [Int(a, "padding", 0)], a.TryGetProperty("size", out _) ? Ints(a, "size") : null),
        "max_unpool1d" => F.MaxUnpool1d(x[0]!, x[1]!, Int(a, "k", 1), Int(a, "stride", 1), Int(a, "padding", 0), Ints(a, "size")[0]),
        "grid_sample" => F.GridSample(x[0]!, x[1]!, Str(a, "mode")!, Str(a, "padding")!, Bool(a, "align_corners")),
        "affine_grid_sample" => F.GridSample(x[0]!, F.AffineGrid(x[1]!, Ints(a, "size"), Bool(a, "align_corners")), alignCorners: Bool(a, "align_corners")),
        "normalize" => F.Normalize(x[0]!, Dbl(a, "p", 2), Int(a, "dim", 1)),
        "cosine_similarity" => F.CosineSimilarity(x[0]!, x[1]!, Int(a, "dim", 1)),
        "pairwise_distance" => F.PairwiseDistance(x[0]!, x[1]!, Dbl(a, "p", 2), keepDim: Bool(a, "keepdim")),
        "maxpool_indices" => F.MaxPool2dWithIndices(x[0]!, [Int(a, "k", 1)], [Int(a, "stride", 1)], [Int(a, "padding", 0)], [Int(a, "dilation", 1)], Bool(a, "ceil")).Indices,
        var op => throw new System.ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(FunctionalCases))]
    public void FunctionalMatchesPyTorch(string name) => CheckFunctional(name, Device.Cpu);

    internal static void RunAndDispose(string section, string name)
    {
        var c = Case(section, name);
        using var noGrad = Autograd.NoGrad();
        var x = c.GetProperty("inputs").EnumerateArray().Select(e => NNGolden.Tensor(e)).ToArray();
        var y = section == "losses" ? CallLoss(c.GetProperty("args"), x!) : CallFunctional(c.GetProperty("args"), x);
        y.Dispose();
        foreach (var t in x) t?.Dispose();
    }

    /// <summary>Runs functional case <paramref name="name"/> with its inputs on <paramref name="device"/>.</summary>
    internal static void CheckFunctional(string name, Device device)
    {
        var c = Case("functional", name);
        var grads = c.GetProperty("input_grads").EnumerateArray().ToArray();
        var x = c.GetProperty("inputs").EnumerateArray().Select((e, i) =>
        {
            var t = NNGolden.Tensor(e)?.To(device);
            return t is not null && grads[i].ValueKind != JsonValueKind.Null ? t.Detach().RequiresGrad_() : t;
        }).ToArray();
        var y = CallFunctional(c.GetProperty("args"), x);
        var want = c.GetProperty("output");
        if (want.GetProperty("dtype").GetString() == "int64")
        {
            Assert.Equal(want.GetProperty("data").EnumerateArray().Select(e => e.GetInt64()), y.ToArray<long>());
            Assert.Equal(want.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), y.Shape);
            return;
        }
        AssertClose(want, y, $"{name} output");
        if (c.GetProperty("cot").ValueKind == JsonValueKind.Null) return;
        (y * NNGolden.Tensor(c.GetProperty("cot"))!.To(device)).Sum().Backward();
        for (int i = 0; i < x.Length; i++)
            if (grads[i].ValueKind != JsonValueKind.Null)
                // An input the output does not depend on differentiably (nearest sampling's grid) has no gradient in
                // Kiln, zeros in PyTorch: the same.
                AssertClose(grads[i], x[i]!.Grad ?? Tensor.ZerosLike(x[i]!), $"{name} grad of input {i}");
    }

    /// <summary>Functional cases whose op is a registry primitive: case op → registry op.</summary>
    /// <summary>Registry ops the loss cases run (mse and mse_sum go through the fused mse_loss op).</summary>
    public static readonly string[] RegistryOpsCoveredByLosses = ["mse_loss"];

    public static readonly Dictionary<string, string> RegistryOps = new() { ["unfold"] = "im2col", ["fold"] = "col2im", ["sdpa"] = "sdpa", ["rope"] = "rope", ["swiglu"] = "swiglu" };

    [Theory]
    [MemberData(nameof(FunctionalCases))]
    public void RegistryShapeRuleGivesPyTorchsShape(string name)
    {
        var c = Case("functional", name);
        var a = c.GetProperty("args");
        if (!RegistryOps.TryGetValue(a.GetProperty("op").GetString()!, out var op)) return;
        var shapes = c.GetProperty("inputs").EnumerateArray().Where(e => e.ValueKind != JsonValueKind.Null)
            .Select(e => e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        Kiln.Compiler.Ops.OpArgs args = Kiln.Compiler.Ops.OpArgs.None;
        if (op == "im2col")
        {
            var k = Ints(a, "k"); var d = Ints(a, "dilation"); var p = Ints(a, "padding"); var st = Ints(a, "stride");
            args = new Kiln.Compiler.Ops.Im2ColArgs(new ConvGeometry("im2col", k[0], k[1], d[0], d[1], p[0], p[1], st[0], st[1]));
        }
        else if (op == "col2im")
        {
            var size = Ints(a, "size"); var k = Ints(a, "k");
            args = new Kiln.Compiler.Ops.Col2ImArgs(size[0], size[1], new ConvGeometry("col2im", k[0], k[1], 1, 1, 0, 0, 1, 1));
        }
        else if (op == "sdpa") args = new Kiln.Compiler.Ops.AttentionArgs(1, Causal: false, Grouped: Bool(a, "gqa"));
        var got = Kiln.Compiler.Ops.OpRegistry.Find(op)!.Shape(shapes, args);
        Assert.Equal(c.GetProperty("output").GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()), got);
    }

    static Reduction Red(JsonElement a) => Str(a, "reduction") switch
    {
        "sum" => Reduction.Sum,
        "none" => Reduction.None,
        "batchmean" => Reduction.BatchMean,
        _ => Reduction.Mean,
    };

    static Tensor CallLoss(JsonElement a, Tensor[] x)
    {
        var r = Red(a);
        Tensor? third = x.Length > 2 ? x[2] : null;
        return a.GetProperty("op").GetString() switch
        {
            "cross_entropy" => F.CrossEntropy(x[0], x[1], Bool(a, "weight") ? third : null, Int(a, "ignore_index", -100), r, Dbl(a, "smoothing", 0)),
            "nll" => F.NllLoss(Bool(a, "log_softmax_first") ? x[0].LogSoftmax(1) : x[0], x[1], Bool(a, "weight") ? third : null, -100, r),
            "mse" => F.MseLoss(x[0], x[1], r),
            "l1" => F.L1Loss(x[0], x[1], r),
            "smooth_l1" => F.SmoothL1Loss(x[0], x[1], r, Dbl(a, "beta", 1)),
            "huber" => F.HuberLoss(x[0], x[1], r, Dbl(a, "delta", 1)),
            "bce" => F.BinaryCrossEntropy(x[0], x[1], Bool(a, "weight") ? third : null, r),
            "bce_logits" => F.BinaryCrossEntropyWithLogits(x[0], x[1], null, Bool(a, "pos_weight") ? third : null, r),
            "kl_div" => F.KlDiv(x[0], x[1], r, Bool(a, "log_target")),
            "margin_ranking" => F.MarginRankingLoss(x[0], x[1], x[2], Dbl(a, "margin", 0), r),
            "hinge_embedding" => F.HingeEmbeddingLoss(x[0], x[1], Dbl(a, "margin", 1), r),
            "soft_margin" => F.SoftMarginLoss(x[0], x[1], r),
            "multilabel_soft_margin" => F.MultilabelSoftMarginLoss(x[0], x[1], Bool(a, "weight") ? third : null, r),
            "cosine_embedding" => F.CosineEmbeddingLoss(x[0], x[1], x[2], Dbl(a, "margin", 0), r),
            "triplet_margin" => F.TripletMarginLoss(x[0], x[1], x[2], Dbl(a, "margin", 1), Dbl(a, "p", 2), swap: Bool(a, "swap"), reduction: r),
            "multilabel_margin" => F.MultilabelMarginLoss(x[0], x[1], r),
            "triplet_with_distance" => F.TripletMarginWithDistanceLoss(x[0], x[1], x[2],
                Str(a, "distance") == "cosine" ? (u, v) => 1.0 - F.CosineSimilarity(u, v) : null, Dbl(a, "margin", 1), Bool(a, "swap"), r),
            "multi_margin" => F.MultiMarginLoss(x[0], x[1], Int(a, "p", 1), Dbl(a, "margin", 1), Bool(a, "weight") ? third : null, r),
            "poisson_nll" => F.PoissonNllLoss(x[0], x[1], a.TryGetProperty("log_input", out var li) ? li.GetBoolean() : true, Bool(a, "full"), reduction: r),
            "gaussian_nll" => F.GaussianNllLoss(x[0], x[1], x[2], Bool(a, "full"), Dbl(a, "eps", 1e-6), r),
            "ctc" => new CTCLoss(Int(a, "blank", 0), r, Bool(a, "zero_infinity")).Call(x[0].LogSoftmax(-1), x[1], x[2], x[3]),
            var op => throw new System.ArgumentException(op),
        };
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void LossMatchesPyTorch(string name) => CheckLoss(name, Device.Cpu);

    /// <summary>Runs loss case <paramref name="name"/> with its inputs on <paramref name="device"/>.</summary>
    internal static void CheckLoss(string name, Device device)
    {
        var c = Case("losses", name);
        var x = c.GetProperty("inputs").EnumerateArray().Select(e => NNGolden.Tensor(e)!.To(device)).ToArray();
        x[0] = x[0].Detach().RequiresGrad_();
        var y = CallLoss(c.GetProperty("args"), x);
        AssertClose(c.GetProperty("output"), y, $"{name} value");
        (y * NNGolden.Tensor(c.GetProperty("cot"))!.To(device)).Sum().Backward();
        AssertClose(c.GetProperty("grad"), x[0].Grad!, $"{name} input gradient");
    }
}
