using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Kiln.NN;
using Xunit;
using static Kiln.Tests.NN.NNGolden;

namespace Kiln.Tests.NN;

/// <summary>
/// Every layer against PyTorch: PyTorch's state dict loaded into the Kiln module (so names and layouts must match),
/// then forward outputs, gradients of inputs and of every parameter, running statistics, and the printed module.
/// </summary>
public class ModuleGoldenTests
{
    public static IEnumerable<object[]> Cases() => Names("modules");

    /// <summary>Registry primitives checked against PyTorch through the modules built on them (LSTM, LayerNorm, Transformer cases).</summary>
    public static readonly string[] RegistryOpsCoveredByModules = ["lstm_layer", "gru_layer", "layer_norm", "batch_norm", "conv2d", "max_pool2d"];

    [Fact]
    public void MaxPoolShapeRuleMatchesTheOp()
    {
        var y = F.MaxPool2d(Tensor.Randn(2, 3, 8, 7), [3], [2], [1], [1], ceilMode: true);
        Assert.Equal(y.Shape, Kiln.Compiler.Ops.OpRegistry.Find("max_pool2d")!.Shape([[2, 3, 8, 7]], new Kiln.Compiler.Ops.PoolArgs(new Kiln.Compiler.Shapes.ConvGeometry("max_pool2d", 3, 3, 1, 1, 1, 1, 2, 2), CeilMode: true)));
    }

    [Fact]
    public void LayerNormShapeRuleMatchesTheOp()
    {
        var y = F.LayerNorm(Tensor.Randn(2, 3, 4), [4]);
        Assert.Equal(y.Shape, Kiln.Compiler.Ops.OpRegistry.Find("layer_norm")!.Shape([[2, 3, 4]], new Kiln.Compiler.Ops.NormalizationArgs(4, HasWeight: false, HasBias: false)));
    }

    [Fact]
    public void LstmLayerShapeRuleMatchesTheOp()
    {
        var y = Tensor.LstmLayerOp(Tensor.Randn(5, 3, 8), Tensor.Zeros(3, 2), Tensor.Zeros(3, 2), Tensor.Randn(8, 2), null, false);
        Assert.Equal(y.Shape, Kiln.Compiler.Ops.OpRegistry.Find("lstm_layer")!.Shape([[5, 3, 8], [3, 2], [3, 2], [8, 2]], new Kiln.Compiler.Ops.LstmArgs(false, 2)));
        var p = Tensor.LstmLayerOp(Tensor.Randn(5, 3, 12), Tensor.Zeros(3, 2), Tensor.Zeros(3, 3), Tensor.Randn(12, 2), Tensor.Randn(2, 3), false);
        Assert.Equal(p.Shape, Kiln.Compiler.Ops.OpRegistry.Find("lstm_layer")!.Shape([[5, 3, 12], [3, 2], [3, 3], [12, 2], [2, 3]], new Kiln.Compiler.Ops.LstmArgs(false, 3)));
        Assert.Throws<KilnException>(() => Tensor.LstmLayerOp(Tensor.Randn(5, 3, 8), Tensor.Zeros(3, 3), Tensor.Zeros(3, 2), Tensor.Randn(8, 2), null, false));
    }

    /// <summary>The Kiln module for a case's type and PyTorch constructor arguments.</summary>
    internal static Module Build(string type, JsonElement a) => type switch
    {
        "Linear" => new Linear(a.GetProperty("in").GetInt32(), a.GetProperty("out").GetInt32(), Bool(a, "bias", true)),
        "Conv1d" => Str(a, "padding") is { } p1
            ? new Conv1d(Int(a, "in", 0), Int(a, "out", 0), Int(a, "k", 0), p1, Int(a, "stride", 1), Int(a, "dilation", 1), Int(a, "groups", 1), Bool(a, "bias", true))
            : new Conv1d(Int(a, "in", 0), Int(a, "out", 0), Int(a, "k", 0), Int(a, "stride", 1), Int(a, "padding", 0), Int(a, "dilation", 1), Int(a, "groups", 1), Bool(a, "bias", true)),
        "Conv2d" => Str(a, "padding") is { } p2
            ? new Conv2d(Int(a, "in", 0), Int(a, "out", 0), Int(a, "k", 0), p2, Int(a, "stride", 1), Int(a, "dilation", 1), Int(a, "groups", 1), Bool(a, "bias", true))
            : new Conv2d(Int(a, "in", 0), Int(a, "out", 0), Int(a, "k", 0), Int(a, "stride", 1), Int(a, "padding", 0), Int(a, "dilation", 1), Int(a, "groups", 1), Bool(a, "bias", true)),
        "ConvTranspose2d" => new ConvTranspose2d(Int(a, "in", 0), Int(a, "out", 0), Int(a, "k", 0), Int(a, "stride", 1), Int(a, "padding", 0), Int(a, "output_padding", 0), Int(a, "groups", 1), true, Int(a, "dilation", 1)),
        "MaxPool2d" => new MaxPool2d(Int(a, "k", 0), a.TryGetProperty("stride", out var s) ? s.GetInt32() : null, Int(a, "padding", 0), Int(a, "dilation", 1), Bool(a, "ceil_mode")),
        "AvgPool2d" => new AvgPool2d(Int(a, "k", 0), a.TryGetProperty("stride", out var s2) ? s2.GetInt32() : null, Int(a, "padding", 0), Bool(a, "ceil_mode"), Bool(a, "count_include_pad", true)),
        "AdaptiveAvgPool2d" => Ints(a, "size") is { Length: 2 } sz ? new AdaptiveAvgPool2d(sz[0], sz[1]) : new AdaptiveAvgPool2d(Ints(a, "size")[0]),
        "BatchNorm1d" => new BatchNorm1d(Int(a, "n", 0), 1e-5, Momentum(a), Bool(a, "affine", true), Bool(a, "track", true)),
        "BatchNorm2d" => new BatchNorm2d(Int(a, "n", 0), 1e-5, Momentum(a), Bool(a, "affine", true), Bool(a, "track", true)),
        "LayerNorm" => new LayerNorm(Ints(a, "shape"), 1e-5, Bool(a, "affine", true)),
        "RMSNorm" => new RMSNorm(Ints(a, "shape"), a.TryGetProperty("eps", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null),
        "GroupNorm" => new GroupNorm(Int(a, "groups", 0), Int(a, "channels", 0)),
        "Embedding" => new Embedding(Int(a, "num", 0), Int(a, "dim", 0), a.TryGetProperty("padding_idx", out var pi) && pi.ValueKind == JsonValueKind.Number ? pi.GetInt32() : null),
        "ReLU" => new ReLU(),
        "GELU" => new GELU(Str(a, "approximate") ?? "none"),
        "SiLU" => new SiLU(),
        "Sigmoid" => new Sigmoid(),
        "Tanh" => new Tanh(),
        "LeakyReLU" => new LeakyReLU(Dbl(a, "slope", 0.01)),
        "Softmax" => new Softmax(Int(a, "dim", 0)),
        "LogSoftmax" => new LogSoftmax(Int(a, "dim", 0)),
        "Flatten" => new Flatten(),
        "Identity" => new Identity(),
        "Dropout" => new Dropout(Dbl(a, "p", 0.5)),
        "LSTM" => new LSTM(Int(a, "in", 0), Int(a, "hidden", 0), Int(a, "layers", 1), Bool(a, "bias", true), Bool(a, "batch_first"), 0, Bool(a, "bidirectional"), projSize: Int(a, "proj", 0)),
        "GRU" => new GRU(Int(a, "in", 0), Int(a, "hidden", 0), Int(a, "layers", 1), Bool(a, "bias", true), Bool(a, "batch_first"), 0, Bool(a, "bidirectional")),
        "MultiheadAttention" => new MultiheadAttention(Int(a, "embed", 0), Int(a, "heads", 0), 0, Bool(a, "bias", true),
            a.TryGetProperty("kdim", out var kd) ? kd.GetInt32() : null, a.TryGetProperty("vdim", out var vd) ? vd.GetInt32() : null, Bool(a, "batch_first"),
            addBiasKv: Bool(a, "bias_kv"), addZeroAttn: Bool(a, "zero_attn")),
        "TransformerEncoderLayer" => new TransformerEncoderLayer(Int(a, "d", 0), Int(a, "heads", 0), Int(a, "ff", 0), 0, Str(a, "activation") ?? "relu", 1e-5, Bool(a, "batch_first"), Bool(a, "norm_first")),
        "TransformerEncoder" => new TransformerEncoder(new TransformerEncoderLayer(Int(a, "d", 0), Int(a, "heads", 0), Int(a, "ff", 0), 0, batchFirst: true, normFirst: Bool(a, "norm_first")),
            Int(a, "layers", 1), Bool(a, "norm") ? new LayerNorm(Int(a, "d", 0)) : null),
        "TransformerDecoderLayer" => new TransformerDecoderLayer(Int(a, "d", 0), Int(a, "heads", 0), Int(a, "ff", 0), 0, Str(a, "activation") ?? "relu", 1e-5, true, Bool(a, "norm_first")),
        "TransformerDecoder" => new TransformerDecoder(new TransformerDecoderLayer(Int(a, "d", 0), Int(a, "heads", 0), Int(a, "ff", 0), 0, batchFirst: true, normFirst: Bool(a, "norm_first")),
            Int(a, "layers", 1), Bool(a, "norm") ? new LayerNorm(Int(a, "d", 0)) : null),
        "ELU" => new ELU(Dbl(a, "alpha", 1)),
        "CELU" => new CELU(Dbl(a, "alpha", 1)),
        "RReLU" => new RReLU(Dbl(a, "lower", 1.0 / 8), Dbl(a, "upper", 1.0 / 3)),
        "PReLU" => new PReLU(Int(a, "n", 1), Dbl(a, "init", 0.25)),
        "ReLU6" => new ReLU6(),
        "Hardtanh" => new Hardtanh(Dbl(a, "min", -1), Dbl(a, "max", 1)),
        "Threshold" => new Threshold(Dbl(a, "threshold", 0), Dbl(a, "value", 0)),
        "Softshrink" => new Softshrink(Dbl(a, "lambd", 0.5)),
        "Hardshrink" => new Hardshrink(Dbl(a, "lambd", 0.5)),
        "Tanhshrink" => new Tanhshrink(),
        "GLU" => new GLU(Int(a, "dim", -1)),
        "Softmin" => new Softmin(Int(a, "dim", 0)),
        "Softplus" => new Softplus(Dbl(a, "beta", 1), Dbl(a, "threshold", 20)),
        "ZeroPad2d" => new ZeroPad2d(Ints(a, "pad")),
        "ConstantPad3d" => new ConstantPad3d(Ints(a, "pad"), Dbl(a, "value", 0)),
        "ReflectionPad3d" => new ReflectionPad3d(Ints(a, "pad")),
        "ReplicationPad3d" => new ReplicationPad3d(Ints(a, "pad")),
        "AdaptiveLogSoftmaxWithLoss" => new AdaptiveLogSoftmaxWithLoss(Int(a, "in", 0), Int(a, "n", 0), Ints(a, "cutoffs"), Dbl(a, "div", 4), Bool(a, "head_bias")),
        "LocalResponseNorm" => new LocalResponseNorm(Int(a, "size", 0), Dbl(a, "alpha", 1e-4), Dbl(a, "beta", 0.75), Dbl(a, "k", 1)),
        "ConstantPad1d" => new ConstantPad1d(Ints(a, "pad"), Dbl(a, "value", 0)),
        "ConstantPad2d" => new ConstantPad2d(Ints(a, "pad"), Dbl(a, "value", 0)),
        "ReflectionPad1d" => new ReflectionPad1d(Ints(a, "pad")),
        "ReflectionPad2d" => new ReflectionPad2d(Ints(a, "pad")),
        "ReplicationPad1d" => new ReplicationPad1d(Ints(a, "pad")),
        "ReplicationPad2d" => new ReplicationPad2d(Ints(a, "pad")),
        "PixelShuffle" => new PixelShuffle(Int(a, "r", 2)),
        "PixelUnshuffle" => new PixelUnshuffle(Int(a, "r", 2)),
        "Unflatten" => new Unflatten(Int(a, "dim", 1), Ints(a, "sizes")),
        "AdaptiveAvgPool1d" => new AdaptiveAvgPool1d(Int(a, "size", 1)),
        "AdaptiveMaxPool1d" => new AdaptiveMaxPool1d(Int(a, "size", 1)),
        "Bilinear" => new Bilinear(Int(a, "in1", 0), Int(a, "in2", 0), Int(a, "out", 0), Bool(a, "bias", true)),
        "ConvTranspose1d" => new ConvTranspose1d(Int(a, "in", 0), Int(a, "out", 0), Int(a, "k", 1), Int(a, "stride", 1), Int(a, "padding", 0),
            Int(a, "output_padding", 0), Int(a, "groups", 1), Bool(a, "bias", true), Int(a, "dilation", 1)),
        "ConvTranspose3d" => new ConvTranspose3d(Int(a, "in", 0), Int(a, "out", 0), IntOrInts(a, "k", 1), IntOrInts(a, "stride", 1), IntOrInts(a, "padding", 0),
            IntOrInts(a, "output_padding", 0), Int(a, "groups", 1), Bool(a, "bias", true), IntOrInts(a, "dilation", 1)),
        "Conv3d" => new Conv3d(Int(a, "in", 0), Int(a, "out", 0), IntOrInts(a, "k", 1), IntOrInts(a, "stride", 1), IntOrInts(a, "padding", 0), IntOrInts(a, "dilation", 1),
            Int(a, "groups", 1), Bool(a, "bias", true)),
        "MaxPool3d" => a.GetProperty("k").ValueKind == JsonValueKind.Number && !a.TryGetProperty("stride", out _)
            ? new MaxPool3d(Int(a, "k", 1), null, Int(a, "padding", 0), Int(a, "dilation", 1), Bool(a, "ceil_mode"))
            : new MaxPool3d(IntOrInts(a, "k", 1), a.TryGetProperty("stride", out _) ? IntOrInts(a, "stride", 1) : null, IntOrInts(a, "padding", 0), IntOrInts(a, "dilation", 1), Bool(a, "ceil_mode")),
        "AvgPool3d" => a.GetProperty("k").ValueKind == JsonValueKind.Number
            ? new AvgPool3d(Int(a, "k", 1), a.TryGetProperty("stride", out var s3) ? s3.GetInt32() : null, Int(a, "padding", 0), Bool(a, "ceil_mode"), Bool(a, "count_include_pad", true))
            : new AvgPool3d(IntOrInts(a, "k", 1), IntOrInts(a, "stride", 1), IntOrInts(a, "padding", 0), Bool(a, "ceil_mode"), Bool(a, "count_include_pad", true)),
        "AdaptiveAvgPool3d" => a.GetProperty("size").ValueKind == JsonValueKind.Number ? new AdaptiveAvgPool3d(Int(a, "size", 1)) : new AdaptiveAvgPool3d(Ints(a, "size")[0], Ints(a, "size")[1], Ints(a, "size")[2]),
        "AdaptiveMaxPool3d" => a.GetProperty("size").ValueKind == JsonValueKind.Number ? new AdaptiveMaxPool3d(Int(a, "size", 1)) : new AdaptiveMaxPool3d(Ints(a, "size")[0], Ints(a, "size")[1], Ints(a, "size")[2]),
        "BatchNorm3d" => new BatchNorm3d(Int(a, "n", 0), 1e-5, Momentum(a), Bool(a, "affine", true), Bool(a, "track", true)),
        "InstanceNorm3d" => new InstanceNorm3d(Int(a, "n", 0), affine: Bool(a, "affine")),
        "Unfold" => new Kiln.NN.Unfold(Ints(a, "k"), IntOrInts(a, "dilation", 1), IntOrInts(a, "padding", 0), IntOrInts(a, "stride", 1)),
        "Fold" => new Fold(Ints(a, "out"), Ints(a, "k"), IntOrInts(a, "dilation", 1), IntOrInts(a, "padding", 0), IntOrInts(a, "stride", 1)),
        "UpsamplingNearest2d" => a.TryGetProperty("scale", out var sc) ? new UpsamplingNearest2d(sc.GetDouble()) : new UpsamplingNearest2d(Ints(a, "size")[0], Ints(a, "size")[1]),
        "UpsamplingBilinear2d" => a.TryGetProperty("scale", out var sb) ? new UpsamplingBilinear2d(sb.GetDouble()) : new UpsamplingBilinear2d(Ints(a, "size")[0], Ints(a, "size")[1]),
        "ChannelShuffle" => new ChannelShuffle(Int(a, "groups", 1)),
        "Softmax2d" => new Softmax2d(),
        "LPPool2d" => new LPPool2d(Dbl(a, "p", 2), Int(a, "k", 1), a.TryGetProperty("stride", out var ls) ? ls.GetInt32() : null, Bool(a, "ceil_mode")),
        "LPPool1d" => new LPPool1d(Dbl(a, "p", 2), Int(a, "k", 1), a.TryGetProperty("stride", out var ls1) ? ls1.GetInt32() : null, Bool(a, "ceil_mode")),
        "Dropout1d" => new Dropout1d(Dbl(a, "p", 0.5)),
        "EmbeddingBag" => new EmbeddingBag(Int(a, "num", 0), Int(a, "dim", 0), Str(a, "mode") ?? "mean", Bool(a, "include_last_offset"),
            a.TryGetProperty("padding_idx", out var bp) && bp.ValueKind == JsonValueKind.Number ? bp.GetInt32() : null),
        "Dropout3d" => new Dropout3d(Dbl(a, "p", 0.5)),
        "Sequential" => new Sequential(new Linear(4, 6), new ReLU(), new Linear(6, 3)),
        "SpectralNorm" => Parametrizations.SpectralNorm(Build(Str(a, "of")!, a.GetProperty("args")), powerIterations: Int(a, "iterations", 1)),
        "WeightNorm" => Parametrizations.WeightNorm(Build(Str(a, "of")!, a.GetProperty("args")),
            dim: !a.TryGetProperty("dim", out var wd) ? 0 : wd.ValueKind == JsonValueKind.Number ? wd.GetInt32() : null),
        _ => throw new ArgumentException(type),
    };

    /// <summary>A setting given as one number or a list, as the Python case wrote it; <paramref name="fallback"/> when absent.</summary>
    static int[] IntOrInts(JsonElement a, string key, int fallback) =>
        !a.TryGetProperty(key, out var v) ? [fallback] : v.ValueKind == JsonValueKind.Number ? [v.GetInt32()] : v.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    static double? Momentum(JsonElement a) =>
        a.TryGetProperty("momentum", out var m) ? (m.ValueKind == JsonValueKind.Null ? null : m.GetDouble()) : 0.1;

    /// <summary>Calls the module the way the Python case did.</summary>
    internal static Tensor[] Run(string type, Module m, Tensor?[] x, JsonElement a)
    {
        switch (m)
        {
            case EmbeddingBag bag:
                return [bag.Call(x[0]!, x.Length > 1 ? x[1] : null, x.Length > 2 ? x[2] : null)];
            case LSTM lstm:
            {
                var (o, (h, c)) = x.Length > 1 ? lstm.Forward(x[0]!, (x[1]!, x[2]!)) : lstm.Forward(x[0]!);
                return [o, h, c];
            }
            case GRU gru:
            {
                var (o, h) = gru.Forward(x[0]!, x.Length > 1 ? x[1] : null);
                return [o, h];
            }
            case MultiheadAttention mha:
            {
                var q = x[0]!;
                bool self = Bool(a, "self");
                var (o, w) = mha.Forward(q, self ? q : x[1]!, self ? q : x[2]!, x.Length > 3 ? x[3] : null, Bool(a, "need_weights", true),
                    x.Length > 4 ? x[4] : null, Bool(a, "average", true));
                return w is null ? [o] : [o, w];
            }
            case TransformerEncoderLayer enc: return [enc.Forward(x[0]!, x.Length > 1 ? x[1] : null, x.Length > 2 ? x[2] : null)];
            case TransformerEncoder encs: return [encs.Forward(x[0]!, x.Length > 1 ? x[1] : null, x.Length > 2 ? x[2] : null)];
            case TransformerDecoderLayer dec: return [dec.Forward(x[0]!, x[1]!, x.Length > 2 ? x[2] : null)];
            case TransformerDecoder decs: return [decs.Forward(x[0]!, x[1]!, x.Length > 2 ? x[2] : null)];
            case Bilinear bilinear: return [bilinear.Call(x[0]!, x[1]!)];
            case AdaptiveLogSoftmaxWithLoss adaptive:
            {
                var (output, loss) = adaptive.Forward(x[0]!, x[1]!);
                return [output, loss, adaptive.LogProb(x[0]!)];
            }
            case Module<Tensor, Tensor> single: return [single.Call(x[0]!)];
            default: throw new ArgumentException(type);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name) => Check(name, Device.Cpu);

    /// <summary>Case <paramref name="name"/>'s module, loaded, as an action that runs it without gradients on its inputs and disposes the outputs.</summary>
    internal static Action ForwardAndDispose(string name)
    {
        var c = Case("modules", name);
        string type = c.GetProperty("type").GetString()!;
        var a = c.GetProperty("args");
        var m = Build(type, a);
        m.LoadStateDict(Tensors(c.GetProperty("state")));
        m.Train(c.GetProperty("train").GetBoolean());
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(e => NNGolden.Tensor(e)).ToArray();
        return () =>
        {
            using var noGrad = Autograd.NoGrad();
            foreach (var o in Run(type, m, inputs, a)) o.Dispose();
        };
    }

    /// <summary>
    /// Runs case <paramref name="name"/> with the module and its inputs on <paramref name="device"/>: PyTorch's state dict
    /// loaded, outputs, input and parameter gradients and buffers compared with PyTorch's.
    /// </summary>
    internal static void Check(string name, Device device)
    {
        var c = Case("modules", name);
        string type = c.GetProperty("type").GetString()!;
        var a = c.GetProperty("args");
        var m = Build(type, a);
        var result = m.LoadStateDict(Tensors(c.GetProperty("state")));
        Assert.Empty(result.MissingKeys);
        m.To(device);
        m.Train(c.GetProperty("train").GetBoolean());
        var wantInGrads = c.GetProperty("input_grads").EnumerateArray().ToArray();
        // Exactly the inputs PyTorch took gradients for (masks never do).
        var inputs = c.GetProperty("inputs").EnumerateArray().Select((e, i) =>
        {
            var t = NNGolden.Tensor(e)?.To(device);
            return t is not null && wantInGrads[i].ValueKind != JsonValueKind.Null ? t.Detach().RequiresGrad_() : t;
        }).ToArray();
        var outs = Run(type, m, inputs, a);
        var wantOuts = c.GetProperty("outputs").EnumerateArray().ToArray();
        var cots = c.GetProperty("cots").EnumerateArray().Select(e => NNGolden.Tensor(e)!.To(device)).ToArray();
        Assert.Equal(wantOuts.Length, outs.Length);
        // Deep stacks (Transformers) accumulate float32 rounding across many reductions.
        double atol = type.StartsWith("Transformer") || type == "MultiheadAttention" ? 5e-5 : 1e-5;
        for (int i = 0; i < outs.Length; i++) AssertClose(wantOuts[i], outs[i], $"{name} output {i}", atol);

        Tensor loss = (outs[0] * cots[0]).Sum();
        for (int i = 1; i < outs.Length; i++) loss = loss + (outs[i] * cots[i]).Sum();
        loss.Backward();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (wantInGrads[i].ValueKind == JsonValueKind.Null) continue;
            Assert.True(inputs[i]!.Grad is not null, $"{name}: input {i} got no gradient");
            AssertClose(wantInGrads[i], inputs[i]!.Grad!, $"{name} input {i} grad", atol * 2, 2e-4);
        }
        var pgrads = c.GetProperty("param_grads");
        var named = m.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var pg in pgrads.EnumerateObject())
        {
            Assert.True(named.ContainsKey(pg.Name), $"{name}: no parameter {pg.Name}; has {string.Join(", ", named.Keys)}");
            Assert.True(named[pg.Name].Grad is not null, $"{name}: parameter {pg.Name} got no gradient");
            AssertClose(pg.Value, named[pg.Name].Grad!, $"{name} grad of {pg.Name}", atol * 2, 2e-4);
        }
        Assert.Equal(pgrads.EnumerateObject().Count(), named.Count(p => p.Value.Grad is not null));
        var buffers = m.NamedBuffers().ToDictionary(b => b.Name, b => b.Buffer);
        foreach (var b in c.GetProperty("buffers_after").EnumerateObject())
            AssertClose(b.Value, buffers[b.Name], $"{name} buffer {b.Name} after forward");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PrintsLikePyTorch(string name)
    {
        var c = Case("modules", name);
        string type = c.GetProperty("type").GetString()!;
        if (type == "RMSNorm") return; // PyTorch 1.13 has no nn.RMSNorm to print; see ModuleApiTests for its format
        var m = Build(type, c.GetProperty("args"));
        string want = c.GetProperty("repr").GetString()!;
        // PyTorch 2 quotes the upsampling mode (repr(self.mode)); 1.13, which wrote the golden file, did not.
        if (type.StartsWith("Upsampling", StringComparison.Ordinal)) want = System.Text.RegularExpressions.Regex.Replace(want, "mode=(\\w+)", "mode='$1'");
        Assert.Equal(want, m.ToString());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StateDictKeysAndShapesMatchPyTorch(string name)
    {
        var c = Case("modules", name);
        var m = Build(c.GetProperty("type").GetString()!, c.GetProperty("args"));
        var want = c.GetProperty("state").EnumerateObject().Select(p => (p.Name, Shape: p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray())).ToArray();
        var got = m.StateDict().Select(kv => (kv.Key, Shape: kv.Value.Shape.ToArray())).ToArray();
        Assert.Equal(want.Select(w => w.Name), got.Select(g => g.Key));
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i].Shape, got[i].Shape);
    }
}
