using System;
using System.Linq;
using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Quantization;
using Xunit;

namespace Kiln.Tests.Quantization;

/// <summary>torch.ao.quantization against Debian's PyTorch (tests/golden/make_quant_golden.py → ao.safetensors): observers, fake quantization, dynamic and static int8 Linear.</summary>
public class AoGoldenTests
{
    static readonly Lazy<System.Collections.Generic.OrderedDictionary<string, Tensor>> G =
        new(() => SafeTensors.Load(BitsAndBytesGoldenTests.Dir("ao.safetensors")));

    static Observer Make(string name) => name switch
    {
        "minmax_quint8" => new MinMaxObserver(),
        "minmax_quint8_reduce" => new MinMaxObserver(reduceRange: true),
        "minmax_qint8_symmetric" => new MinMaxObserver(QDType.QInt8, QScheme.PerTensorSymmetric),
        "minmax_qint8_affine" => new MinMaxObserver(QDType.QInt8),
        "moving_quint8" => new MovingAverageMinMaxObserver(0.1),
        "histogram_quint8" => new HistogramObserver(),
        "histogram_qint8_symmetric" => new HistogramObserver(dtype: QDType.QInt8, scheme: QScheme.PerTensorSymmetric),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("minmax_quint8")]
    [InlineData("minmax_quint8_reduce")]
    [InlineData("minmax_qint8_symmetric")]
    [InlineData("minmax_qint8_affine")]
    [InlineData("moving_quint8")]
    [InlineData("histogram_quint8")]
    [InlineData("histogram_qint8_symmetric")]
    public void ObserversGiveTorchsScaleAndZeroPoint(string name)
    {
        foreach (int n in new[] { 1, 3 })
        {
            var o = Make(name);
            for (int i = 0; i < n; i++) o.Forward(G.Value[$"batch{i}"]);
            var q = o.CalculateQParams();
            Assert.Equal(G.Value[$"{name}_{n}.scale"].ToArray<float>()[0], q.Scale);
            Assert.Equal(G.Value[$"{name}_{n}.zero_point"].ToArray<long>()[0], q.ZeroPoint);
        }
    }

    [Fact]
    public void FakeQuantizeAndItsStraightThroughGradientEqualTorch()
    {
        var x = G.Value["fq.x"].Clone().RequiresGrad_();
        var q = new QParams(0.05f, 100, 0, 255);
        var y = FakeQuantize.Apply(x, q);
        Assert.Equal(G.Value["fq.y"].ToArray<float>(), y.ToArray<float>());
        y.Mul(G.Value["fq.w"]).Sum().Backward();
        Assert.Equal(G.Value["fq.grad"].ToArray<float>(), x.Grad!.ToArray<float>());
    }

    [Fact]
    public void DynamicQuantizedLinearEqualsTorch()
    {
        var lin = new Linear(64, 16);
        using (Autograd.NoGrad()) { lin.Weight.Copy_(G.Value["dyn.weight"]); lin.Bias!.Copy_(G.Value["dyn.bias"]); }
        var model = new Sequential(lin);
        Assert.Equal(["0"], Ao.QuantizeDynamic(model));
        var q = Assert.IsType<DynamicQuantizedLinear>(model[0]);
        Close(G.Value["dyn.y"], q.Forward(G.Value["dyn.x"]), 1e-5);
    }

    [Fact]
    public void StaticPostTrainingQuantizationEqualsTorch()
    {
        var lin = new Linear(32, 8);
        using (Autograd.NoGrad()) { lin.Weight.Copy_(G.Value["ptq.weight"]); lin.Bias!.Copy_(G.Value["ptq.bias"]); }
        var model = new Sequential(lin);
        model.Eval();
        Ao.Prepare(model, QConfig.MinMax);
        for (int i = 0; i < 3; i++) model.Forward(G.Value[$"batch{i}"]);
        Ao.Convert(model);
        var q = Assert.IsType<QuantizedLinear>(model[0]);
        Assert.Equal(G.Value["ptq.out_scale"].ToArray<float>()[0], q.OutputQParams.Scale);
        Assert.Equal(G.Value["ptq.out_zero_point"].ToArray<long>()[0], q.OutputQParams.ZeroPoint);
        // Outputs are on the output grid; PyTorch's kernel may round a value that lies on a midpoint the other way.
        var want = G.Value["ptq.y"].ToArray<float>(); var got = q.Forward(G.Value["ptq.x"]).ToArray<float>();
        int off = 0;
        for (int i = 0; i < want.Length; i++)
        {
            Assert.True(Math.Abs(want[i] - got[i]) <= q.OutputQParams.Scale * 1.001, $"{i}: {got[i]} vs {want[i]}");
            if (want[i] != got[i]) off++;
        }
        Assert.True(off <= want.Length / 10, $"{off} of {want.Length} outputs one step off");
    }

    [Fact]
    public void QuantizationAwareTrainingLearnsThroughTheRoundingAndConvertsToWhatItTrained()
    {
        Generator.ManualSeed(31);
        var model = new Sequential(new Linear(16, 32), new ReLU(), new Linear(32, 4));
        Assert.Equal(["0", "2"], Ao.PrepareQat(model));
        var x = Tensor.Randn(64, 16);
        var target = Tensor.From(Enumerable.Range(0, 64).Select(i => (long)(i % 4)).ToArray(), 64);
        var opt = new SGD(model.Parameters().Where(p => p.RequiresGrad), lr: 0.2, momentum: 0.9);
        float first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            opt.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), target);
            loss.Backward();
            opt.Step();
            if (step == 0) first = loss.Item<float>();
            last = loss.Item<float>();
        }
        Assert.True(last < first * 0.6, $"loss {first} -> {last}");
        model.Eval();
        ((QatLinear)model[0]).DisableObservers();
        ((QatLinear)model[2]).DisableObservers();
        Tensor fake;
        using (Autograd.NoGrad()) fake = model.Forward(x);
        Ao.Convert(model);
        Assert.IsType<QuantizedLinear>(model[2]);
        var real = model.Forward(x);
        // The int8 model computes what training saw: the same grid, the same values up to a step where a product lands on a midpoint.
        double step2 = ((QuantizedLinear)model[2]).OutputQParams.Scale;
        Assert.True(real.Sub(fake).Abs().Max().Item<float>() <= 1.001 * step2, $"{real.Sub(fake).Abs().Max().Item<float>()} vs step {step2}");
        Assert.True(F.CrossEntropy(real, target).Item<float>() < first * 0.6);
    }

    static void Close(Tensor want, Tensor got, double tol)
    {
        var a = want.ToArray<float>(); var b = got.ToArray<float>();
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= tol + tol * Math.Abs(a[i]), $"{i}: {b[i]} vs {a[i]}");
    }
}
