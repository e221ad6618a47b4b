using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Kiln;

namespace Kiln.Tests.Golden;

/// <summary>Maps each golden op name to the Kiln call that must reproduce PyTorch's result.</summary>
public static class GoldenOps
{
    static int[] Ints(JsonElement a, string key) => a.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
    static int[]? Dims(JsonElement a) => a.TryGetProperty("dims", out var d) && d.ValueKind == JsonValueKind.Array ? d.EnumerateArray().Select(e => e.GetInt32()).ToArray() : null;
    static bool Keep(JsonElement a) => a.TryGetProperty("keepdim", out var k) && k.GetBoolean();
    static double D(JsonElement a, string key) => GoldenData.ReadDouble(a.GetProperty(key));
    static double? OptD(JsonElement a, string key) => a.TryGetProperty(key, out var v) ? GoldenData.ReadDouble(v) : null;
    static int? OptDim(JsonElement a) => a.TryGetProperty("dim", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : null;

    static Tensor ScalarArg(JsonElement a) => a.TryGetProperty("int", out _) ? Tensor.Scalar(a.GetProperty("s").GetInt64()) : Tensor.Scalar(D(a, "s"));

    public static readonly Dictionary<string, Func<Tensor[], JsonElement, Tensor[]>> Table = new()
    {
        ["mul_self"] = (x, a) => [x[0] * x[0]],
        ["composite_reuse"] = (x, a) => [(x[0] * x[0].Exp() + x[0].Log()).Sum(1) / x[0].Sum()],
        ["composite_mlp"] = (x, a) => [(x[0].Matmul(x[1]) + x[2]).Relu().LogSoftmax(1).Mean()],
        ["add"] = (x, a) => [x[0].Add(x[1])],
        ["sub"] = (x, a) => [x[0].Sub(x[1])],
        ["mul"] = (x, a) => [x[0] * x[1]],
        ["div"] = (x, a) => [x[0] / x[1]],
        ["maximum"] = (x, a) => [x[0].Maximum(x[1])],
        ["minimum"] = (x, a) => [x[0].Minimum(x[1])],
        ["pow"] = (x, a) => [x[0].Pow(x[1])],
        ["pow_scalar"] = (x, a) => [x[0].Pow(D(a, "s"))],
        ["add_scalar"] = (x, a) => [x[0].Add(ScalarArg(a))],
        ["sub_scalar"] = (x, a) => [x[0].Sub(ScalarArg(a))],
        ["mul_scalar"] = (x, a) => [x[0].Mul(ScalarArg(a))],
        ["div_scalar"] = (x, a) => [x[0].Div(ScalarArg(a))],
        ["rsub_scalar"] = (x, a) => [ScalarArg(a).Sub(x[0])],
        ["eq"] = (x, a) => [x[0].Eq(x[1])],
        ["ne"] = (x, a) => [x[0].Ne(x[1])],
        ["lt"] = (x, a) => [x[0] < x[1]],
        ["le"] = (x, a) => [x[0] <= x[1]],
        ["gt"] = (x, a) => [x[0] > x[1]],
        ["ge"] = (x, a) => [x[0] >= x[1]],
        ["where"] = (x, a) => [Tensor.Where(x[0], x[1], x[2])],
        ["masked_fill"] = (x, a) => [x[0].MaskedFill(x[1], D(a, "value"))],
        ["neg"] = (x, a) => [-x[0]],
        ["abs"] = (x, a) => [x[0].Abs()],
        ["exp"] = (x, a) => [x[0].Exp()],
        ["log"] = (x, a) => [x[0].Log()],
        ["log1p"] = (x, a) => [x[0].Log1p()],
        ["sqrt"] = (x, a) => [x[0].Sqrt()],
        ["rsqrt"] = (x, a) => [x[0].Rsqrt()],
        ["sin"] = (x, a) => [x[0].Sin()],
        ["cos"] = (x, a) => [x[0].Cos()],
        ["tanh"] = (x, a) => [x[0].Tanh()],
        ["sigmoid"] = (x, a) => [x[0].Sigmoid()],
        ["relu"] = (x, a) => [x[0].Relu()],
        ["gelu"] = (x, a) => [x[0].Gelu()],
        ["gelu_tanh"] = (x, a) => [x[0].Gelu("tanh")],
        ["silu"] = (x, a) => [x[0].Silu()],
        ["softplus"] = (x, a) => [x[0].Softplus(OptD(a, "beta") ?? 1, OptD(a, "threshold") ?? 20)],
        ["clamp"] = (x, a) => [x[0].Clamp(OptD(a, "min"), OptD(a, "max"))],
        ["to"] = (x, a) => [x[0].To(DTypes.Parse(a.GetProperty("dtype").GetString()!))],
        ["sum"] = (x, a) => [x[0].Sum(Dims(a), Keep(a))],
        ["mean"] = (x, a) => [x[0].Mean(Dims(a), Keep(a))],
        ["var"] = (x, a) => [x[0].Var(Dims(a), OptD(a, "correction") ?? 1, Keep(a))],
        ["std"] = (x, a) => [x[0].Std(Dims(a), OptD(a, "correction") ?? 1, Keep(a))],
        ["norm"] = (x, a) => [x[0].Norm(D(a, "p"), Dims(a), Keep(a))],
        ["logsumexp"] = (x, a) => [x[0].LogSumExp(Dims(a)!, Keep(a))],
        ["max_all"] = (x, a) => [x[0].Max()],
        ["min_all"] = (x, a) => [x[0].Min()],
        ["max_dim"] = (x, a) => { var (v, i) = x[0].Max(OptDim(a)!.Value, Keep(a)); return [v, i]; },
        ["min_dim"] = (x, a) => { var (v, i) = x[0].Min(OptDim(a)!.Value, Keep(a)); return [v, i]; },
        ["argmax"] = (x, a) => [OptDim(a) is { } d ? x[0].ArgMax(d, Keep(a)) : x[0].ArgMax()],
        ["argmin"] = (x, a) => [OptDim(a) is { } d ? x[0].ArgMin(d, Keep(a)) : x[0].ArgMin()],
        ["prod"] = (x, a) => [OptDim(a) is { } d ? x[0].Prod(d, Keep(a)) : x[0].Prod()],
        ["softmax"] = (x, a) => [(OptD(a, "scale") is { } s ? x[0] * s : x[0]).Softmax(OptDim(a)!.Value)],
        ["log_softmax"] = (x, a) => [x[0].LogSoftmax(OptDim(a)!.Value)],
        ["rms_norm"] = (x, a) => [Kiln.NN.F.RmsNorm(x[0], Ints(a, "shape"), x.Length > 1 ? x[1] : null, OptD(a, "eps"))],
        ["cumsum"] = (x, a) => [x[0].CumSum(OptDim(a)!.Value)],
        ["all"] = (x, a) => [OptDim(a) is { } d ? x[0].All(d, Keep(a)) : x[0].All()],
        ["any"] = (x, a) => [OptDim(a) is { } d ? x[0].Any(d, Keep(a)) : x[0].Any()],
        ["matmul"] = (x, a) => [x[0].Matmul(x[1])],
        ["bmm"] = (x, a) => [x[0].Bmm(x[1])],
        ["outer"] = (x, a) => [x[0].Outer(x[1])],
        ["addmm"] = (x, a) => [Tensor.Addmm(x[0], x[1], x[2], D(a, "beta"), D(a, "alpha"))],
        ["view"] = (x, a) => [x[0].View(Ints(a, "shape"))],
        ["reshape"] = (x, a) => [x[0].Reshape(Ints(a, "shape"))],
        ["permute"] = (x, a) => [x[0].Permute(Ints(a, "dims"))],
        ["transpose"] = (x, a) => [x[0].Transpose(a.GetProperty("dim0").GetInt32(), a.GetProperty("dim1").GetInt32())],
        ["T"] = (x, a) => [x[0].T],
        ["squeeze"] = (x, a) => [OptDim(a) is { } d ? x[0].Squeeze(d) : x[0].Squeeze()],
        ["unsqueeze"] = (x, a) => [x[0].Unsqueeze(OptDim(a)!.Value)],
        ["expand"] = (x, a) => [x[0].Expand(Ints(a, "shape"))],
        ["flatten"] = (x, a) => [x[0].Flatten(a.GetProperty("start").GetInt32(), a.GetProperty("end").GetInt32())],
        ["unflatten"] = (x, a) => [x[0].Unflatten(OptDim(a)!.Value, Ints(a, "sizes"))],
        ["narrow"] = (x, a) => [x[0].Narrow(OptDim(a)!.Value, a.GetProperty("start").GetInt64(), a.GetProperty("length").GetInt32())],
        ["select"] = (x, a) => [x[0].Select(OptDim(a)!.Value, a.GetProperty("index").GetInt64())],
        ["index"] = (x, a) => [x[0][a.GetProperty("idx").EnumerateArray().Select(IndexOf).ToArray()]],
        ["contiguous"] = (x, a) => [x[0].Contiguous()],
        ["cat"] = (x, a) => [Tensor.Cat(x, OptDim(a)!.Value)],
        ["stack"] = (x, a) => [Tensor.Stack(x, OptDim(a)!.Value)],
        ["split"] = (x, a) => a.TryGetProperty("sizes", out _) ? x[0].Split(Ints(a, "sizes"), OptDim(a)!.Value) : x[0].Split(a.GetProperty("size").GetInt32(), OptDim(a)!.Value),
        ["chunk"] = (x, a) => x[0].Chunk(a.GetProperty("chunks").GetInt32(), OptDim(a)!.Value),
        ["index_select"] = (x, a) => [x[0].IndexSelect(OptDim(a)!.Value, x[1])],
        ["gather"] = (x, a) => [x[0].Gather(OptDim(a)!.Value, x[1])],
        ["scatter"] = (x, a) => [x.Length == 3 ? x[0].Scatter(OptDim(a)!.Value, x[1], x[2]) : x[0].Scatter(OptDim(a)!.Value, x[1], D(a, "value"))],
        ["scatter_add"] = (x, a) => [x[0].ScatterAdd(OptDim(a)!.Value, x[1], x[2])],
        ["repeat"] = (x, a) => [x[0].Repeat(Ints(a, "repeats"))],
        ["tril"] = (x, a) => [x[0].Tril(a.GetProperty("diagonal").GetInt32())],
        ["triu"] = (x, a) => [x[0].Triu(a.GetProperty("diagonal").GetInt32())],
        ["arange"] = (x, a) => [Tensor.Arange(a.GetProperty("start").GetInt64(), a.GetProperty("end").GetInt64(), a.GetProperty("step").GetInt64())],
        ["arange_float"] = (x, a) => [Tensor.Arange(D(a, "start"), D(a, "end"), D(a, "step"))],
        ["linspace"] = (x, a) => [Tensor.Linspace(D(a, "start"), D(a, "end"), a.GetProperty("steps").GetInt32())],
        ["eye"] = (x, a) => [Tensor.Eye(a.GetProperty("n").GetInt32(), a.GetProperty("m").GetInt32())],
        ["zeros"] = (x, a) => [Tensor.Zeros(Ints(a, "shape"), DTypes.Parse(a.GetProperty("dtype").GetString()!))],
        ["ones"] = (x, a) => [Tensor.Ones(Ints(a, "shape"), DTypes.Parse(a.GetProperty("dtype").GetString()!))],
        ["full"] = (x, a) => [Tensor.Full(Ints(a, "shape"), D(a, "value"), DTypes.Parse(a.GetProperty("dtype").GetString()!))],
    };

    static TensorIndex IndexOf(JsonElement e)
    {
        var p = e.EnumerateArray().ToArray();
        return p[0].GetString() switch
        {
            "all" => ..,
            "range" => p[1].GetInt32()..p[2].GetInt32(),
            "range_fromend" => ^p[1].GetInt32()..,
            "int" => p[1].GetInt32() is var i && i < 0 ? ^(-i) : i,
            "slice" => TensorIndex.Slice(p[1].GetInt64(), p[2].GetInt64(), p[3].GetInt64()),
            "ellipsis" => TensorIndex.Ellipsis,
            "newaxis" => TensorIndex.NewAxis,
            var other => throw new InvalidOperationException($"unknown index {other}"),
        };
    }
}
