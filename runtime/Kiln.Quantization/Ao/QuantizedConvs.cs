using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>The int8 product of a 2-D convolution (<see cref="Int8Math"/> through the float64 convolution: exact integer sums).</summary>
internal static class Int8Conv
{
    public static Tensor Forward(ConvBase geometry, Tensor input, Tensor weightCodes, QParams[] w, QParams x, Tensor? bias)
    {
        if (input.Dim != 4 || input.Size(1) != geometry.InChannels)
            throw new KilnException("quantized::conv2d", $"quantized::conv2d: expected input of shape [N, {geometry.InChannels}, H, W], got [{string.Join(", ", input.Shape.ToArray())}]", KilnErrorKind.Shape);
        using var _ = Autograd.NoGrad();
        var xc = Int8Math.CenteredInput(input, x);
        var wc = Int8Math.CenteredWeight(weightCodes, w);
        var acc = geometry.PaddingText != null
            ? F.Conv2d(xc, wc, null, geometry.Stride, geometry.PaddingText, geometry.Dilation, geometry.Groups)
            : F.Conv2d(xc, wc, null, geometry.Stride, geometry.Padding, geometry.Dilation, geometry.Groups);
        return Int8Math.Rescale(acc, x, w, bias, 1);
    }
}

/// <summary>
/// A 2-D convolution quantized after calibration or QAT (<c>torch.ao.nn.quantized.Conv2d</c> between a QuantStub and a
/// DeQuantStub): input quantized with its calibrated range, int8 weights with a scale per output channel (or one),
/// the integer sums rescaled, biased and requantized to the calibrated output range, returned as float.
/// </summary>
public sealed class QuantizedConv2d : Conv2d
{
    readonly QParams[] _weight;

    internal QuantizedConv2d(Conv2d source, QParams input, QParams[] weight, QParams output) : base(source)
    {
        // The same geometry; the weight slot holds the int8 codes instead of the float tensor it shared.
        RegisterParameter("weight", Int8Math.Codes(source.Weight, weight));
        RegisterParameter("bias", source.Bias?.Detach().Clone());
        InputQParams = input.WithFullRange(); _weight = weight; OutputQParams = output.WithFullRange();
    }

    /// <summary>The calibrated input range.</summary>
    public QParams InputQParams { get; }
    /// <summary>Each output channel's weight scale and zero point.</summary>
    public IReadOnlyList<QParams> WeightChannelQParams => _weight;
    /// <summary>The calibrated output range.</summary>
    public QParams OutputQParams { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        Int8Math.Requantize(Int8Conv.Forward(this, input, Weight, _weight, InputQParams, Bias), OutputQParams);

    /// <inheritdoc/>
    public override string ExtraRepr() => base.ExtraRepr() + $", scale={OutputQParams.Scale}, zero_point={OutputQParams.ZeroPoint}";
}

/// <summary>
/// A 2-D convolution watched for post-training quantization (what <see cref="Ao.Prepare"/> puts in): the float forward,
/// with observers on the input, the weight and the output.
/// </summary>
public sealed class ObservedConv2d : Conv2d
{
    internal ObservedConv2d(Conv2d source, QConfig config) : base(source)
    {
        RegisterModule("input_observer", config.Activation());
        RegisterModule("weight_observer", config.Weight());
        RegisterModule("activation_post_process", config.Activation());
    }

    Observer InputObserver => Child<Observer>("input_observer");
    Observer WeightObserver => Child<Observer>("weight_observer");
    Observer OutputObserver => Child<Observer>("activation_post_process");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        InputObserver.Forward(input);
        var y = base.Forward(input);
        OutputObserver.Forward(y);
        return y;
    }

    internal QuantizedConv2d Convert()
    {
        WeightObserver.Forward(Weight);
        return new QuantizedConv2d(this, InputObserver.CalculateQParams(), WeightObserver.CalculateQParamsPerChannel(OutChannels), OutputObserver.CalculateQParams());
    }
}

/// <summary>
/// A 2-D convolution for quantization-aware training (<c>torch.ao.nn.qat.Conv2d</c>): input, weight (per output channel
/// under a per-channel config) and output go through <see cref="FakeQuantize"/>; gradients pass straight through.
/// </summary>
public sealed class QatConv2d : Conv2d
{
    internal QatConv2d(Conv2d source, QConfig config) : base(source)
    {
        RegisterModule("input_fake_quant", new FakeQuantize(config.Activation()));
        RegisterModule("weight_fake_quant", new FakeQuantize(config.Weight()));
        RegisterModule("activation_post_process", new FakeQuantize(config.Activation()));
    }

    /// <summary>The input's fake quantization.</summary>
    public FakeQuantize InputFakeQuant => Child<FakeQuantize>("input_fake_quant");
    /// <summary>The weight's fake quantization.</summary>
    public FakeQuantize WeightFakeQuant => Child<FakeQuantize>("weight_fake_quant");
    /// <summary>The output's fake quantization.</summary>
    public FakeQuantize OutputFakeQuant => Child<FakeQuantize>("activation_post_process");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var x = InputFakeQuant.Forward(input);
        var w = WeightFakeQuant.Forward(Weight);
        var y = PaddingText != null ? F.Conv2d(x, w, Bias, Stride, PaddingText, Dilation, Groups) : F.Conv2d(x, w, Bias, Stride, Padding, Dilation, Groups);
        return OutputFakeQuant.Forward(y);
    }

    /// <summary>Freezes every range (<c>disable_observer</c>).</summary>
    public void DisableObservers() { InputFakeQuant.ObserverEnabled = false; WeightFakeQuant.ObserverEnabled = false; OutputFakeQuant.ObserverEnabled = false; }

    internal QuantizedConv2d Convert() =>
        new(this, InputFakeQuant.QParams, WeightFakeQuant.ChannelQParams(OutChannels), OutputFakeQuant.QParams);
}
