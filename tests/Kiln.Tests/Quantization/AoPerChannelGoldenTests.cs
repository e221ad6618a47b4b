using System;
using Kiln.IO;
using Kiln.NN;
using Kiln.Quantization;
using Xunit;

namespace Kiln.Tests.Quantization;

/// <summary>
/// Per-channel weights and int8 convolutions against torch.ao (tests/golden/make_quant_golden.py →
/// ao_per_channel.safetensors): per-channel observers, fake_quantize_per_channel_affine and its gradient, static
/// quantization of a Conv2d and a Linear under fbgemm's default qconfig, and QAT of a Conv2d under fbgemm's QAT config.
/// </summary>
public class AoPerChannelGoldenTests
{
    static readonly Lazy<System.Collections.Generic.OrderedDictionary<string, Tensor>> G =
        new(() => SafeTensors.Load(BitsAndBytesGoldenTests.Dir("ao_per_channel.safetensors")));

    [Theory]
    [InlineData("pc_minmax_sym")]
    [InlineData("pc_minmax_affine")]
    [InlineData("pc_minmax_axis1")]
    [InlineData("pc_moving_sym")]
    public void PerChannelObserversGiveTorchsScalesAndZeroPoints(string name)
    {
        PerChannelMinMaxObserver o = name switch
        {
            "pc_minmax_sym" => new PerChannelMinMaxObserver(),
            "pc_minmax_affine" => new PerChannelMinMaxObserver(dtype: QDType.QUInt8, scheme: QScheme.PerChannelAffine),
            "pc_minmax_axis1" => new PerChannelMinMaxObserver(chAxis: 1),
            _ => new MovingAveragePerChannelMinMaxObserver(0.1),
        };
        var w = G.Value["pc.w"];
        o.Forward(w);
        o.Forward(w * 0.5 + 0.01);
        var want = G.Value[$"{name}.scale"].ToArray<float>();
        var wantZ = G.Value[$"{name}.zero_point"].ToArray<long>();
        var q = o.CalculateQParamsPerChannel(want.Length);
        Assert.Equal(want, Array.ConvertAll(q, p => p.Scale));
        Assert.Equal(wantZ, Array.ConvertAll(q, p => (long)p.ZeroPoint));
        Assert.Throws<KilnException>(() => o.CalculateQParams());
    }

    [Fact]
    public void PerChannelFakeQuantizeAndItsGradientEqualTorch()
    {
        var scale = G.Value["pcfq.scale"].ToArray<float>();
        var zero = G.Value["pcfq.zero_point"].ToArray<long>();
        var q = new QParams[scale.Length];
        for (int c = 0; c < q.Length; c++) q[c] = new QParams(scale[c], (int)zero[c], -128, 127);
        var x = G.Value["pc.w"].Clone().RequiresGrad_();
        var y = FakeQuantize.ApplyPerChannel(x, q, 0);
        Assert.Equal(G.Value["pcfq.y"].ToArray<float>(), y.ToArray<float>());
        y.Mul(G.Value["pcfq.v"]).Sum().Backward();
        Assert.Equal(G.Value["pcfq.grad"].ToArray<float>(), x.Grad!.ToArray<float>());
        var e = Assert.Throws<KilnException>(() => FakeQuantize.ApplyPerChannel(x, q, 1));
        Assert.Contains("6 scales for dim 1", e.Message);
    }

    [Fact]
    public void StaticQuantizedConvolutionEqualsTorch()
    {
        var conv = new Conv2d(4, 6, 3, stride: 2, padding: 1);
        using (Autograd.NoGrad()) { conv.Weight.Copy_(G.Value["ptqconv.weight"]); conv.Bias!.Copy_(G.Value["ptqconv.bias"]); }
        var model = new Sequential(conv);
        model.Eval();
        Assert.Equal(["0"], Ao.Prepare(model, QConfig.Fbgemm));
        for (int i = 0; i < 3; i++) model.Forward(G.Value[$"conv.batch{i}"]);
        Ao.Convert(model);
        var q = Assert.IsType<QuantizedConv2d>(model[0]);
        // The output range comes from the histogram search over conv outputs: within an ulp of torch's float32 arithmetic.
        Assert.Equal(G.Value["ptqconv.out_scale"].ToArray<float>()[0], q.OutputQParams.Scale, 1e-6f * q.OutputQParams.Scale);
        Assert.Equal(G.Value["ptqconv.out_zero_point"].ToArray<long>()[0], q.OutputQParams.ZeroPoint);
        var wScales = G.Value["ptqconv.w_scales"].ToArray<float>();
        for (int o = 0; o < wScales.Length; o++) Assert.Equal(wScales[o], q.WeightChannelQParams[o].Scale);
        OnGrid(G.Value["ptqconv.y"], q.Forward(G.Value["ptqconv.x"]), q.OutputQParams.Scale);
        var e = Assert.Throws<KilnException>(() => q.Forward(Tensor.Zeros(1, 3, 9, 9)));
        Assert.Contains("quantized::conv2d", e.Message);
        Assert.Contains("[1, 3, 9, 9]", e.Message);
    }

    [Fact]
    public void PerChannelStaticQuantizedLinearEqualsTorch()
    {
        var lin = new Linear(36, 6);
        using (Autograd.NoGrad()) { lin.Weight.Copy_(G.Value["ptqlin.weight"]); lin.Bias!.Copy_(G.Value["ptqlin.bias"]); }
        var model = new Sequential(lin);
        model.Eval();
        Ao.Prepare(model, QConfig.Fbgemm);
        for (int i = 0; i < 3; i++) model.Forward(G.Value[$"conv.batch{i}"].Reshape(-1, 36).Slice(0, 0, 16));
        Ao.Convert(model);
        var q = Assert.IsType<QuantizedLinear>(model[0]);
        OnGrid(G.Value["ptqlin.y"], q.Forward(G.Value["ptqlin.x"]), q.OutputQParams.Scale);
    }

    [Fact]
    public void QuantizationAwareConvolutionTrainsAndConvertsAsTorch()
    {
        var conv = new Conv2d(4, 6, 3, stride: 2, padding: 1);
        using (Autograd.NoGrad()) { conv.Weight.Copy_(G.Value["qat.weight"]); conv.Bias!.Copy_(G.Value["qat.bias"]); }
        var model = new Sequential(conv);
        Assert.Equal(["0"], Ao.PrepareQat(model, QConfig.FbgemmQat));
        var qat = Assert.IsType<QatConv2d>(model[0]);
        var x = G.Value["conv.batch0"].Clone().RequiresGrad_();
        var y = model.Forward(x);
        var step = qat.OutputFakeQuant.QParams.Scale;
        OnGrid(G.Value["qat.y"], y, step);
        y.Mul(G.Value["qat.v"]).Sum().Backward();
        Close(G.Value["qat.x_grad"], x.Grad!, 1e-4);
        Close(G.Value["qat.w_grad"], qat.Weight.Grad!, 1e-4);
        model.Eval();
        Ao.Convert(model);
        var q = Assert.IsType<QuantizedConv2d>(model[0]);
        OnGrid(G.Value["qat.test_y"], q.Forward(G.Value["ptqconv.x"]), q.OutputQParams.Scale);
    }

    /// <summary>
    /// Values on the output grid equal torch's (up to the last bit of a scale an ulp apart), but for at most a tenth one
    /// step off (a product on a midpoint).
    /// </summary>
    static void OnGrid(Tensor want, Tensor got, float step)
    {
        var a = want.ToArray<float>(); var b = got.ToArray<float>();
        Assert.Equal(a.Length, b.Length);
        int off = 0;
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(a[i] - b[i]) <= step * 1.001, $"{i}: {b[i]} vs {a[i]} (step {step})");
            if (Math.Abs(a[i] - b[i]) > step * 0.5) off++;
        }
        Assert.True(off <= a.Length / 10, $"{off} of {a.Length} outputs one step off");
    }

    static void Close(Tensor want, Tensor got, double tol)
    {
        var a = want.ToArray<float>(); var b = got.ToArray<float>();
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= tol + tol * Math.Abs(a[i]), $"{i}: {b[i]} vs {a[i]}");
    }
}
