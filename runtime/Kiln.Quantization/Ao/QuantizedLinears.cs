using System;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// The integer product every int8 linear layer here computes, written once: y = (Σ (x_q − zx)·(w_q − zw))·sx·sw + b, the
/// sum exact (accumulated in float64, as an int32 accumulator would be), the rest in float32 as fbgemm/oneDNN do.
/// </summary>
internal static class Int8Linear
{
    public static Tensor Forward(Tensor input, Tensor weightCodes, QParams w, QParams x, Tensor? bias, int inFeatures)
    {
        if (input.Dim == 0 || input.Size(-1) != inFeatures)
            throw new KilnException("quantized::linear", $"quantized::linear: input of shape [{string.Join(", ", input.Shape.ToArray())}] does not end in in_features={inFeatures}", KilnErrorKind.Shape);
        using var _ = Autograd.NoGrad();
        var src = input.To(DType.Float32).Contiguous();
        var xs = src.AsSpan<float>();
        var xq = new double[xs.Length];
        for (int i = 0; i < xs.Length; i++) xq[i] = x.Quantize(xs[i]) - x.ZeroPoint;
        var shape = input.Shape.ToArray();
        var wz = weightCodes.To(DType.Float64).Sub(w.ZeroPoint);
        var acc = Tensor.From(xq, shape).Matmul(wz.T);        // exact integers in float64
        float scale = x.Scale * w.Scale;
        var y = acc.To(DType.Float32).Mul(scale);
        return bias is null ? y : y.Add(bias.To(DType.Float32));
    }

    /// <summary>The int8 codes of <paramref name="weight"/> under <paramref name="q"/>.</summary>
    public static Tensor Codes(Tensor weight, QParams q)
    {
        var w = weight.Detach().Cpu().To(DType.Float32).Contiguous().AsSpan<float>();
        var codes = new sbyte[w.Length];
        for (int i = 0; i < w.Length; i++) codes[i] = (sbyte)q.Quantize(w[i]);
        return Tensor.From(codes, weight.Shape.ToArray());
    }
}

/// <summary>
/// A linear layer with int8 weights whose activations are quantized per call from their own min and max
/// (<c>torch.ao.nn.quantized.dynamic.Linear</c>; what <see cref="Ao.QuantizeDynamic"/> puts in): quint8 activations with
/// reduce_range (0..127), qint8 symmetric weights.
/// </summary>
public sealed class DynamicQuantizedLinear : Linear
{
    /// <summary>Quantizes <paramref name="source"/>'s weight (qint8 symmetric min-max).</summary>
    public DynamicQuantizedLinear(Linear source) : this(source, WeightRange(source)) { }

    DynamicQuantizedLinear(Linear source, QParams weight)
        : base(source.InFeatures, source.OutFeatures, Int8Linear.Codes(source.Weight, weight), source.Bias?.Detach().Clone()) => WeightQParams = weight;

    static QParams WeightRange(Linear source)
    {
        var obs = new MinMaxObserver(QDType.QInt8, QScheme.PerTensorSymmetric);
        obs.Forward(source.Weight);
        return obs.CalculateQParams();
    }

    /// <summary>The weight's scale and zero point.</summary>
    public QParams WeightQParams { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var obs = new MinMaxObserver(QDType.QUInt8, QScheme.PerTensorAffine, reduceRange: true);
        obs.Forward(input);
        return Int8Linear.Forward(input, Weight, WeightQParams, obs.CalculateQParams(), Bias, InFeatures);
    }

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, dtype=qint8, scale={WeightQParams.Scale}";
}

/// <summary>
/// A linear layer quantized after calibration (<c>torch.ao.nn.quantized.Linear</c> between a QuantStub and a
/// DeQuantStub): its input is quantized with the calibrated activation range, the product is requantized to the
/// calibrated output range and returned as float.
/// </summary>
public sealed class QuantizedLinear : Linear
{
    internal QuantizedLinear(Linear source, QParams input, QParams weight, QParams output)
        : base(source.InFeatures, source.OutFeatures, Int8Linear.Codes(source.Weight, weight), source.Bias?.Detach().Clone())
    {
        InputQParams = input; WeightQParams = weight; OutputQParams = output;
    }

    /// <summary>The calibrated input range.</summary>
    public QParams InputQParams { get; }
    /// <summary>The weight's scale and zero point.</summary>
    public QParams WeightQParams { get; }
    /// <summary>The calibrated output range.</summary>
    public QParams OutputQParams { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var y = Int8Linear.Forward(input, Weight, WeightQParams, InputQParams, Bias, InFeatures).Contiguous();
        var v = y.AsSpan<float>();
        for (int i = 0; i < v.Length; i++) v[i] = OutputQParams.Dequantize(OutputQParams.Quantize(v[i]));
        return y;
    }

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, scale={OutputQParams.Scale}, zero_point={OutputQParams.ZeroPoint}";
}

/// <summary>
/// A linear layer watched for post-training quantization (what <see cref="Ao.Prepare"/> puts in): the forward is the
/// float one; observers record the input, weight and output ranges while calibration data runs through.
/// </summary>
public sealed class ObservedLinear : Linear
{
    internal ObservedLinear(Linear source, QConfig config) : base(source)
    {
        RegisterModule("input_observer", config.Activation());
        RegisterModule("weight_observer", config.Weight());
        RegisterModule("activation_post_process", config.Activation());
    }

    internal Observer InputObserver => Child<Observer>("input_observer");
    internal Observer WeightObserver => Child<Observer>("weight_observer");
    internal Observer OutputObserver => Child<Observer>("activation_post_process");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        InputObserver.Forward(input);
        var y = base.Forward(input);
        OutputObserver.Forward(y);
        return y;
    }

    internal QuantizedLinear Convert()
    {
        WeightObserver.Forward(Weight);
        return new QuantizedLinear(this, InputObserver.CalculateQParams(), WeightObserver.CalculateQParams(), OutputObserver.CalculateQParams());
    }
}

/// <summary>
/// A linear layer for quantization-aware training (<c>torch.ao.nn.qat.Linear</c>): its weight and its input go through
/// <see cref="FakeQuantize"/>, and its output too, so training sees the int8 rounding (and the output range) while
/// gradients pass straight through.
/// </summary>
public sealed class QatLinear : Linear
{
    internal QatLinear(Linear source, QConfig config) : base(source)
    {
        RegisterModule("input_fake_quant", new FakeQuantize(config.Activation()));
        RegisterModule("weight_fake_quant", new FakeQuantize(config.Weight()));
        RegisterModule("activation_post_process", new FakeQuantize(config.Activation()));
    }

    /// <summary>The input's fake quantization.</summary>
    public FakeQuantize InputFakeQuant => Child<FakeQuantize>("input_fake_quant");
    /// <summary>The weight's fake quantization.</summary>
    public FakeQuantize WeightFakeQuant => Child<FakeQuantize>("weight_fake_quant");
    /// <summary>The output's fake quantization (the quantized layer's output grid).</summary>
    public FakeQuantize OutputFakeQuant => Child<FakeQuantize>("activation_post_process");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        OutputFakeQuant.Forward(F.Linear(InputFakeQuant.Forward(input), WeightFakeQuant.Forward(Weight), Bias));

    /// <summary>Freezes every range (<c>disable_observer</c>): the fake-quantized forward is then exactly the converted layer's.</summary>
    public void DisableObservers() { InputFakeQuant.ObserverEnabled = false; WeightFakeQuant.ObserverEnabled = false; OutputFakeQuant.ObserverEnabled = false; }

    internal QuantizedLinear Convert() =>
        new(this, InputFakeQuant.QParams, WeightFakeQuant.QParams, OutputFakeQuant.QParams);
}
