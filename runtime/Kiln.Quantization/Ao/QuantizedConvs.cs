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
    internal ObservedConv2d(Conv2d source, QConfig config) : base(source) => QuantSlots.AddObservers((n, m) => RegisterModule(n, m), config);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => QuantSlots.Observed(this, input, base.Forward);

    internal QuantizedConv2d Convert()
    {
        var (x, w, y) = QuantSlots.Calibrated(this, Weight);
        return new QuantizedConv2d(this, x, w, y);
    }
}

/// <summary>
/// A 2-D convolution for quantization-aware training (<c>torch.ao.nn.qat.Conv2d</c>): input, weight (per output channel
/// under a per-channel config) and output go through <see cref="FakeQuantize"/>; gradients pass straight through.
/// </summary>
public sealed class QatConv2d : Conv2d
{
    internal QatConv2d(Conv2d source, QConfig config) : base(source) => QuantSlots.AddFakeQuants((n, m) => RegisterModule(n, m), config);

    /// <summary>The input's fake quantization.</summary>
    public FakeQuantize InputFakeQuant => QuantSlots.FakeQuant(this, QuantSlots.InputFakeQuant);
    /// <summary>The weight's fake quantization.</summary>
    public FakeQuantize WeightFakeQuant => QuantSlots.FakeQuant(this, QuantSlots.WeightFakeQuant);
    /// <summary>The output's fake quantization.</summary>
    public FakeQuantize OutputFakeQuant => QuantSlots.FakeQuant(this, QuantSlots.Output);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var x = InputFakeQuant.Forward(input);
        var w = WeightFakeQuant.Forward(Weight);
        var y = PaddingText != null ? F.Conv2d(x, w, Bias, Stride, PaddingText, Dilation, Groups) : F.Conv2d(x, w, Bias, Stride, Padding, Dilation, Groups);
        return OutputFakeQuant.Forward(y);
    }

    /// <summary>Freezes every range (<c>disable_observer</c>).</summary>
    public void DisableObservers() => QuantSlots.DisableObservers(this);

    internal QuantizedConv2d Convert()
    {
        var (x, w, y) = QuantSlots.Trained(this, OutChannels);
        return new QuantizedConv2d(this, x, w, y);
    }
}
