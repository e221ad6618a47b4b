using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Optim.Schedulers;
using Kiln.Optim.Swa;
using Kiln.Tests.Golden;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// torch.optim.swa_utils against PyTorch (tests/golden/make_swa_golden.py): SWALR's rates (1e-12), the running mean and an
/// exponential moving average (parameters and buffers) of a model trained by SGD after every step (rel 1e-5, integer
/// buffers exactly), update_bn's recomputed statistics and the averaged model's output; then the refusals.
/// </summary>
public class SwaGoldenTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "swa.json"))).RootElement;

    static Tensor Build(JsonElement spec) =>
        Tensor.From(spec.GetProperty("data").EnumerateArray().Select(e => (float)GoldenData.ReadDouble(e)).ToArray(),
            spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    static void Close(string what, JsonElement expected, Tensor actual, double rtol, double atol)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.True(shape.SequenceEqual(actual.ShapeArray), $"{what}: shape {actual.Shape}, PyTorch [{string.Join(", ", shape)}]");
        var want = expected.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        using var wide = actual.To(DType.Float64);
        var got = wide.Contiguous().ToArray<double>();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= atol + rtol * Math.Abs(want[i]), $"{what}[{i}]: {got[i]}, PyTorch {want[i]}");
    }

    [Theory]
    [InlineData("cos_4")]
    [InlineData("linear_3")]
    [InlineData("at_once")]
    [InlineData("two_groups")]
    public void SwaLrMatchesPyTorch(string name)
    {
        var expected = Root.GetProperty("schedules").GetProperty(name).EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();
        int groups = expected[0].Length;
        var opt = new SGD(Enumerable.Range(0, groups).Select(i => new ParamGroup([Tensor.Zeros(1).RequiresGrad_()]) { Lr = 0.1 * (i + 1) }), lr: 0.1);
        var sched = name switch
        {
            "cos_4" => new SWALR(opt, 0.02, annealEpochs: 4),
            "linear_3" => new SWALR(opt, 0.05, annealEpochs: 3, annealStrategy: "linear"),
            "at_once" => new SWALR(opt, 0.03, annealEpochs: 0),
            _ => new SWALR(opt, [0.01, 0.4], annealEpochs: 2),
        };
        for (int step = 0; step < expected.Length; step++)
        {
            for (int g = 0; g < groups; g++)
                Assert.True(Math.Abs(opt.ParamGroups[g].Lr - expected[step][g]) <= 1e-12, $"{name} step {step} group {g}: {opt.ParamGroups[g].Lr}, PyTorch {expected[step][g]}");
            sched.Step();
        }
    }

    static Sequential Net() => new(new Linear(3, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 2));

    [Fact]
    public void AveragesAndUpdateBnMatchPyTorch()
    {
        var model = Net();
        model.LoadStateDict(Root.GetProperty("initial").EnumerateObject().ToDictionary(p => p.Name,
            p => p.Name.EndsWith("num_batches_tracked") ? Tensor.Scalar((long)p.Value.GetProperty("data")[0].GetDouble()) : Build(p.Value)));
        var swa = new AveragedModel<Sequential>(model, Net);
        var ema = new AveragedModel<Sequential>(model, Net, avgFn: AveragedModel<Sequential>.Ema(0.8), useBuffers: true);
        Assert.Equal(0, swa.NumAveraged);
        var opt = new SGD(model.Parameters(), lr: 0.1, momentum: 0.9);
        var x = Build(Root.GetProperty("x"));
        var y = Build(Root.GetProperty("y"));
        int index = 0;
        foreach (var step in Root.GetProperty("steps").EnumerateArray())
        {
            opt.ZeroGrad();
            var diff = model.Forward(x) - y;
            (diff * diff).Mean().Backward();
            opt.Step();
            swa.UpdateParameters(model);
            ema.UpdateParameters(model);
            foreach (var (kind, averaged) in new[] { ("swa", swa), ("ema", ema) })
            {
                var state = averaged.StateDict();
                var keys = step.GetProperty(kind).EnumerateObject().Select(p => p.Name).ToArray();
                Assert.Equal(keys, state.Keys.ToArray());
                foreach (var p in step.GetProperty(kind).EnumerateObject())
                {
                    string what = $"step {index} {kind} {p.Name}";
                    if (!state[p.Name].DType.IsFloatingPoint())
                        Assert.True((long)p.Value.GetProperty("data")[0].GetDouble() == state[p.Name].Item<long>(), $"{what}: {state[p.Name].Item<long>()}");
                    else Close(what, p.Value, state[p.Name], 1e-5, 1e-6);
                }
            }
            index++;
        }

        swa.Eval();
        var batches = Root.GetProperty("batches").EnumerateArray().Select(b => new[] { Build(b) }).ToArray();
        SwaUtils.UpdateBn(batches, swa);
        var after = Root.GetProperty("update_bn");
        var bn = (BatchNorm1d)swa.Module.Children().ElementAt(1);
        Close("update_bn running_mean", after.GetProperty("running_mean"), bn.RunningMean!, 1e-5, 1e-6);
        Close("update_bn running_var", after.GetProperty("running_var"), bn.RunningVar!, 1e-5, 1e-6);
        Assert.Equal(after.GetProperty("num_batches_tracked").GetInt64(), bn.NumBatchesTracked!.Item<long>());
        Assert.Equal(0.1, bn.Momentum);          // restored
        Assert.False(swa.Training);              // the mode it had
        Close("averaged output", after.GetProperty("output"), swa.Forward(Build(after.GetProperty("input"))), 1e-5, 1e-6);
    }

    [Fact]
    public void RefusalsNameWhatIsWrong()
    {
        var model = Net();
        var same = Assert.Throws<KilnException>(() => new AveragedModel<Sequential>(model, () => model));
        Assert.Contains("AveragedModel", same.Message);
        var other = Assert.Throws<KilnException>(() => new AveragedModel<Sequential>(model, () => new Sequential(new Linear(3, 4))));
        Assert.Contains("Unexpected key", other.Message);
        var swa = new AveragedModel<Sequential>(model, Net);
        var mismatch = Assert.Throws<KilnException>(() => swa.UpdateParameters(new Sequential(new Linear(3, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 3))));
        Assert.Contains("update_parameters", mismatch.Message);
        Assert.Contains("[3, 4]", mismatch.Message);
        Assert.Equal(0, swa.NumAveraged);
        var opt = new SGD(model.Parameters(), lr: 0.1);
        Assert.Contains("anneal_strategy", Assert.Throws<KilnException>(() => new SWALR(opt, 0.01, annealStrategy: "step")).Message);
        Assert.Contains("anneal_epochs", Assert.Throws<KilnException>(() => new SWALR(opt, 0.01, annealEpochs: -1)).Message);
        Assert.Contains("swa_lr", Assert.Throws<KilnException>(() => new SWALR(opt, [0.1, 0.2])).Message);
        Assert.Throws<KilnException>(() => AveragedModel<Sequential>.Ema(1.5));
    }
}
