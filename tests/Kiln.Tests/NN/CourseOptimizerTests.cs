using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.Optim;
using Kiln.Optim.Schedulers;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// Adamax, Adadelta, NAdam and RAdam trajectories, CosineAnnealingWarmRestarts and CyclicLR schedules, all against
/// PyTorch (course.json), in float64: rel 1e-9 for the parameters, 1e-12 for the rates.
/// </summary>
public class CourseOptimizerTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "course.json"))).RootElement;

    static Tensor Build(JsonElement spec)
    {
        var shape = spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var values = spec.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        return Tensor.From(values, shape);
    }

    [Theory]
    [InlineData("adamax")]
    [InlineData("adadelta")]
    [InlineData("nadam")]
    [InlineData("radam")]
    public void TrajectoriesMatchPyTorch(string name)
    {
        var c = Root.GetProperty("optimizers").GetProperty(name);
        var w = Build(c.GetProperty("start")).RequiresGrad_();
        using var target = Build(c.GetProperty("target"));
        using var scale = Tensor.Arange(1.0, 13.0, 1.0, DType.Float64).Reshape(4, 3);
        Optimizer opt = name switch
        {
            "adamax" => new Adamax([w], lr: 0.05, weightDecay: 0.01),
            "adadelta" => new Adadelta([w], lr: 0.5, rho: 0.8),
            "nadam" => new NAdam([w], lr: 0.05, weightDecay: 0.01),
            _ => new RAdam([w], lr: 0.05),
        };
        int step = 0;
        foreach (var expected in c.GetProperty("steps").EnumerateArray())
        {
            opt.ZeroGrad();
            using (var d = w - target) using (var sq = d * d) using (var weighted = sq * scale) weighted.Sum().Backward();
            opt.Step();
            step++;
            var want = expected.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
            var got = w.ToArray<double>();
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(got[i] - want[i]) <= 1e-9 * Math.Abs(want[i]) + 1e-12, $"{name} step {step} [{i}]: {got[i]}, PyTorch {want[i]}");
        }
    }

    static (double[] Lr, double[] Momentum) Expected(string name)
    {
        var s = Root.GetProperty("schedulers").GetProperty(name);
        return (s.GetProperty("lr").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
                s.GetProperty("momentum").EnumerateArray().Select(e => e.GetDouble()).ToArray());
    }

    [Theory]
    [InlineData("warm_restarts")]
    [InlineData("warm_restarts_fractional")]
    [InlineData("cyclic_triangular")]
    [InlineData("cyclic_triangular2")]
    [InlineData("cyclic_exp_range")]
    public void SchedulesMatchPyTorch(string name)
    {
        var (lr, momentum) = Expected(name);
        var opt = new SGD([Tensor.Zeros(1).RequiresGrad_()], lr: 0.1, momentum: 0.9);
        LRScheduler sched = name switch
        {
            "warm_restarts" => new CosineAnnealingWarmRestarts(opt, 3, 2, 0.01),
            "warm_restarts_fractional" => new CosineAnnealingWarmRestarts(opt, 2),
            "cyclic_triangular" => new CyclicLR(opt, 0.01, 0.1, stepSizeUp: 3, stepSizeDown: 2),
            "cyclic_triangular2" => new CyclicLR(opt, 0.01, 0.1, stepSizeUp: 2, mode: "triangular2"),
            _ => new CyclicLR(opt, 0.01, 0.1, stepSizeUp: 2, mode: "exp_range", gamma: 0.9),
        };
        double[] fractional = [0.5, 1.0, 1.75, 2.5, 4.25, 7.0];
        for (int i = 0; i < lr.Length; i++)
        {
            Assert.True(Math.Abs(opt.ParamGroups[0].Lr - lr[i]) <= 1e-12, $"{name} step {i}: lr {opt.ParamGroups[0].Lr}, PyTorch {lr[i]}");
            Assert.True(Math.Abs(opt.ParamGroups[0]["momentum"] - momentum[i]) <= 1e-12, $"{name} step {i}: momentum {opt.ParamGroups[0]["momentum"]}, PyTorch {momentum[i]}");
            if (i == lr.Length - 1) break;
            if (name == "warm_restarts_fractional") ((CosineAnnealingWarmRestarts)sched).Step(fractional[i]);
            else sched.Step();
        }
    }

    [Fact]
    public void WarmRestartsResumeFromTheirStateDict()
    {
        var a = new SGD([Tensor.Zeros(1).RequiresGrad_()], lr: 0.1);
        var s1 = new CosineAnnealingWarmRestarts(a, 3, 2);
        for (int i = 0; i < 5; i++) s1.Step();
        var b = new SGD([Tensor.Zeros(1).RequiresGrad_()], lr: 0.1);
        var s2 = new CosineAnnealingWarmRestarts(b, 3, 2);
        s2.LoadStateDict(s1.StateDict());
        s1.Step(); s2.Step();
        Assert.Equal(s1.GetLastLr()[0], s2.GetLastLr()[0], 15);
    }

    [Fact]
    public void CyclicMomentumNeedsAnOptimizerWithMomentum()
    {
        var e = Assert.Throws<KilnException>(() => new CyclicLR(new Adadelta([Tensor.Zeros(1).RequiresGrad_()]), 0.01, 0.1));
        Assert.Contains("cycle_momentum", e.Message);
        _ = new CyclicLR(new Adadelta([Tensor.Zeros(1).RequiresGrad_()]), 0.01, 0.1, cycleMomentum: false);
    }
}

/// <summary>RNNCell, LSTMCell, GRUCell and RNN with PyTorch's weights: outputs, and gradients of every parameter and the input (course.json).</summary>
public class RecurrentCellGoldenTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "course.json"))).RootElement;

    static Tensor Build(JsonElement spec)
    {
        var shape = spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var values = spec.GetProperty("data").EnumerateArray().Select(e => (float)GoldenData.ReadDouble(e)).ToArray();
        return Tensor.From(values, shape);
    }

    static void Close(string what, JsonElement expected, Tensor actual)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.True(shape.SequenceEqual(actual.Shape), $"{what}: shape {actual.Shape}, PyTorch [{string.Join(", ", shape)}]");
        var want = expected.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        var got = actual.ToArray<float>();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= 1e-4 * Math.Abs(want[i]) + 1e-6, $"{what}[{i}]: {got[i]}, PyTorch {want[i]}");
    }

    [Theory]
    [InlineData("rnn_cell_tanh")]
    [InlineData("rnn_cell_relu_unbatched")]
    [InlineData("lstm_cell")]
    [InlineData("gru_cell")]
    [InlineData("rnn_two_layers_bidirectional")]
    [InlineData("rnn_relu_batch_first")]
    public void MatchesPyTorch(string name)
    {
        var c = Root.GetProperty("recurrent").GetProperty(name);
        Kiln.NN.Module module = name switch
        {
            "rnn_cell_tanh" => new Kiln.NN.RNNCell(3, 4),
            "rnn_cell_relu_unbatched" => new Kiln.NN.RNNCell(3, 4, nonlinearity: "relu"),
            "lstm_cell" => new Kiln.NN.LSTMCell(3, 4),
            "gru_cell" => new Kiln.NN.GRUCell(3, 4),
            "rnn_two_layers_bidirectional" => new Kiln.NN.RNN(3, 4, numLayers: 2, bidirectional: true),
            _ => new Kiln.NN.RNN(3, 4, nonlinearity: "relu", batchFirst: true),
        };
        module.LoadStateDict(c.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => Build(p.Value)));
        var x = Build(c.GetProperty("input")).RequiresGrad_();
        Tensor[] outputs = module switch
        {
            Kiln.NN.RNNCell cell => [cell.Forward(x)],
            Kiln.NN.LSTMCell cell => cell.Forward(x) is var (h, cc) ? [h, cc] : [],
            Kiln.NN.GRUCell cell => [cell.Forward(x)],
            Kiln.NN.RNN rnn => rnn.Forward(x) is var (o, hn) ? [o, hn] : [],
            _ => throw new InvalidOperationException(),
        };
        var expected = c.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(expected.Length, outputs.Length);
        for (int k = 0; k < outputs.Length; k++) Close($"{name} output {k}", expected[k], outputs[k]);
        using var w = Build(c.GetProperty("weights"));
        (outputs[0] * w).Sum().Backward();
        var parameters = module.NamedParameters().ToDictionary(kv => kv.Name, kv => kv.Parameter);
        foreach (var g in c.GetProperty("grads").EnumerateObject())
            Close($"{name} gradient of {g.Name}", g.Value, g.Name == "input" ? x.Grad! : parameters[g.Name].Grad!);
        Assert.Contains(module.GetType().Name + "(3, 4", module.ToString());
    }
}

/// <summary>nn.Transformer with PyTorch's weights: the output and the gradient of every parameter and input (course.json).</summary>
public class TransformerGoldenTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "course.json"))).RootElement;

    static Tensor Build(JsonElement spec) =>
        Tensor.From(spec.GetProperty("data").EnumerateArray().Select(e => (float)GoldenData.ReadDouble(e)).ToArray(),
            spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    static void Close(string what, JsonElement expected, Tensor actual, double rel)
    {
        var want = expected.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        var got = actual.ToArray<float>();
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(got[i] == want[i] || Math.Abs(got[i] - want[i]) <= rel * Math.Abs(want[i]) + 1e-5, $"{what}[{i}]: {got[i]}, PyTorch {want[i]}");
    }

    [Fact]
    public void MatchesPyTorch()
    {
        var c = Root.GetProperty("transformer");
        var model = new Kiln.NN.Transformer(dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16, dropout: 0);
        Assert.Equal(c.GetProperty("state").EnumerateObject().Select(p => p.Name), model.StateDict().Keys);
        model.LoadStateDict(c.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => Build(p.Value)));
        var src = Build(c.GetProperty("src")).RequiresGrad_();
        var tgt = Build(c.GetProperty("tgt")).RequiresGrad_();
        using var mask = Kiln.NN.Transformer.GenerateSquareSubsequentMask(4);
        Close("mask", c.GetProperty("mask"), mask, 0);
        var output = model.Forward(src, tgt, tgtMask: mask);
        Close("output", c.GetProperty("output"), output, 1e-4);
        using var w = Build(c.GetProperty("weights"));
        (output * w).Sum().Backward();
        var parameters = model.NamedParameters().ToDictionary(kv => kv.Name, kv => kv.Parameter);
        foreach (var g in c.GetProperty("grads").EnumerateObject())
            Close($"gradient of {g.Name}", g.Value, g.Name == "src" ? src.Grad! : g.Name == "tgt" ? tgt.Grad! : parameters[g.Name].Grad!, 1e-3);
    }
}

/// <summary>pack_padded_sequence / pad_packed_sequence and packed input to LSTM, GRU and RNN against PyTorch (course.json).</summary>
public class PackedSequenceGoldenTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "course.json"))).RootElement;

    static Tensor Build(JsonElement spec) =>
        Tensor.From(spec.GetProperty("data").EnumerateArray().Select(e => (float)GoldenData.ReadDouble(e)).ToArray(),
            spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    static void Close(string what, JsonElement expected, Tensor actual)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.True(shape.SequenceEqual(actual.Shape), $"{what}: shape {actual.Shape}, PyTorch [{string.Join(", ", shape)}]");
        var want = expected.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        var got = actual.ToArray<float>();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= 1e-4 * Math.Abs(want[i]) + 1e-6, $"{what}[{i}]: {got[i]}, PyTorch {want[i]}");
    }

    [Theory]
    [InlineData("lstm_bidirectional_unsorted")]
    [InlineData("gru_two_layers_sorted")]
    [InlineData("rnn_unsorted")]
    public void MatchesPyTorch(string name)
    {
        var c = Root.GetProperty("packed").GetProperty(name);
        Kiln.NN.Module module = name switch
        {
            "lstm_bidirectional_unsorted" => new Kiln.NN.LSTM(3, 4, bidirectional: true),
            "gru_two_layers_sorted" => new Kiln.NN.GRU(3, 4, numLayers: 2),
            _ => new Kiln.NN.RNN(3, 4),
        };
        module.LoadStateDict(c.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => Build(p.Value)));
        var x = Build(c.GetProperty("input")).RequiresGrad_();
        var lengths = c.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        bool sorted = name == "gru_two_layers_sorted";
        var packed = Kiln.NN.RnnUtils.PackPaddedSequence(x, lengths, enforceSorted: sorted);
        Close("packed data", c.GetProperty("packed_data"), packed.Data);
        Assert.Equal(c.GetProperty("batch_sizes").EnumerateArray().Select(e => e.GetInt64()), packed.BatchSizes.ToArray<long>());
        (Kiln.NN.PackedSequence output, Tensor[] states) = module switch
        {
            Kiln.NN.LSTM lstm => lstm.Forward(packed) is var (o, (h, cc)) ? (o, new[] { h, cc }) : default,
            Kiln.NN.GRU gru => gru.Forward(packed) is var (o2, h2) ? (o2, new[] { h2 }) : default,
            Kiln.NN.RNN rnn => rnn.Forward(packed) is var (o3, h3) ? (o3, new[] { h3 }) : default,
            _ => throw new InvalidOperationException(),
        };
        var (padded, lens) = Kiln.NN.RnnUtils.PadPackedSequence(output);
        Assert.Equal(lengths, lens);
        Close("padded output", c.GetProperty("padded"), padded);
        var expectedStates = c.GetProperty("states").EnumerateArray().ToArray();
        for (int k = 0; k < states.Length; k++) Close($"state {k}", expectedStates[k], states[k]);
        using var w = Build(c.GetProperty("weights"));
        var loss = (padded * w).Sum();
        foreach (var s in states) loss = loss + s.Sum();
        loss.Backward();
        var parameters = module.NamedParameters().ToDictionary(kv => kv.Name, kv => kv.Parameter);
        foreach (var g in c.GetProperty("grads").EnumerateObject())
            Close($"gradient of {g.Name}", g.Value, g.Name == "input" ? x.Grad! : parameters[g.Name].Grad!);
    }

    [Fact]
    public void PackingRefusesBadLengths()
    {
        using var x = Tensor.Zeros(3, 2, 1);
        Assert.Contains("decreasing", Assert.Throws<KilnException>(() => Kiln.NN.RnnUtils.PackPaddedSequence(x, [1, 3])).Message);
        Assert.Throws<KilnException>(() => Kiln.NN.RnnUtils.PackPaddedSequence(x, [4, 1]));
        Assert.Throws<KilnException>(() => Kiln.NN.RnnUtils.PackPaddedSequence(x, [2, 0]));
        var p = Kiln.NN.RnnUtils.PackSequence([Tensor.Ones(3, 1), Tensor.Ones(1, 1)]);
        Assert.Equal(new long[] { 2, 1, 1 }, p.BatchSizes.ToArray<long>());
    }
}
