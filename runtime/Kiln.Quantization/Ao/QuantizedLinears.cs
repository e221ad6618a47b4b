using System.Collections.Generic;
using System;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// The integer arithmetic every int8 layer here (linear and convolution) computes, written once:
/// y = (Σ (x_q − zx)·(w_q − zw[o]))·(sx·sw[o]) + b[o], the sum exact (integers accumulated in float64, as an int32
/// accumulator would hold them), the rest in float32 as fbgemm/oneDNN do; o is the output channel, whose weight row has
/// its own scale under a per-channel scheme.
/// </summary>
internal static class Int8Math
{
    /// <summary>x's codes minus the zero point, as exact float64 integers in x's shape.</summary>
    public static Tensor CenteredInput(Tensor input, QParams x)
    {
        var src = input.Detach().To(DType.Float32).Contiguous();
        var xs = src.AsSpan<float>();
        var xq = new double[xs.Length];
        for (int i = 0; i < xs.Length; i++) xq[i] = x.Quantize(xs[i]) - x.ZeroPoint;
        return Tensor.From(xq, input.Shape.ToArray());
    }

    /// <summary>The int8 codes of <paramref name="weight"/>, output channel o (dim 0) on grid <paramref name="w"/>[o].</summary>
    public static Tensor Codes(Tensor weight, QParams[] w)
    {
        var v = weight.Detach().Cpu().To(DType.Float32).Contiguous().AsSpan<float>();
        if (weight.Dim == 0 || weight.Size(0) != w.Length)
            throw new KilnException("quantize_per_channel", $"quantize_per_channel: {w.Length} scales for a weight of shape [{string.Join(", ", weight.Shape.ToArray())}] (one per output channel, dim 0)", KilnErrorKind.Shape);
        int row = v.Length / w.Length;
        var codes = new sbyte[v.Length];
        for (int i = 0; i < v.Length; i++) codes[i] = (sbyte)w[i / row].Quantize(v[i]);
        return Tensor.From(codes, weight.Shape.ToArray());
    }

    /// <summary>The codes minus each output channel's zero point, as exact float64 integers.</summary>
    public static Tensor CenteredWeight(Tensor codes, QParams[] w)
    {
        var zero = new double[w.Length];
        for (int o = 0; o < w.Length; o++) zero[o] = w[o].ZeroPoint;
        return codes.To(DType.Float64).Sub(Tensor.From(zero, ChannelShape(w.Length, codes.Dim)));
    }

    /// <summary>acc·(sx·sw[o]) + b[o] in float32, the output channel along dim <paramref name="channelDim"/> of acc.</summary>
    public static Tensor Rescale(Tensor acc, QParams x, QParams[] w, Tensor? bias, int channelDim)
    {
        int dim = channelDim < 0 ? channelDim + acc.Dim : channelDim;
        var scale = new float[w.Length];
        for (int o = 0; o < w.Length; o++) scale[o] = x.Scale * w[o].Scale;
        var shape = ChannelShape(w.Length, acc.Dim - dim);
        var y = acc.To(DType.Float32).Mul(Tensor.From(scale, shape));
        return bias is null ? y : y.Add(bias.Detach().To(DType.Float32).Reshape(shape));
    }

    /// <summary>Rounds y to the output grid in place (the quantized layer's output, returned dequantized).</summary>
    public static Tensor Requantize(Tensor y, QParams output)
    {
        var c = y.Contiguous();
        var v = c.AsSpan<float>();
        for (int i = 0; i < v.Length; i++) v[i] = output.Round(v[i]);
        return c;
    }

    /// <summary>[n] followed by <paramref name="trailing"/> − 1 ones: a per-channel vector that broadcasts along a dim <paramref name="trailing"/> from the end.</summary>
    static int[] ChannelShape(int n, int trailing)
    {
        var shape = new int[Math.Max(1, trailing)];
        System.Array.Fill(shape, 1);
        shape[0] = n;
        return shape;
    }
}

/// <summary>The int8 product of a linear layer (<see cref="Int8Math"/> through a matrix product).</summary>
internal static class Int8Linear
{
    public static Tensor Forward(Tensor input, Tensor weightCodes, QParams[] w, QParams x, Tensor? bias, int inFeatures)
    {
        if (input.Dim == 0 || input.Size(-1) != inFeatures)
            throw new KilnException("quantized::linear", $"quantized::linear: input of shape [{string.Join(", ", input.Shape.ToArray())}] does not end in in_features={inFeatures}", KilnErrorKind.Shape);
        using var _ = Autograd.NoGrad();
        var acc = Int8Math.CenteredInput(input, x).Matmul(Int8Math.CenteredWeight(weightCodes, w).T);        // exact integers in float64
        return Int8Math.Rescale(acc, x, w, bias, -1);
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
        : base(source.InFeatures, source.OutFeatures, Int8Math.Codes(source.Weight, Repeat(weight, source.OutFeatures)), source.Bias?.Detach().Clone()) => WeightQParams = weight;

    static QParams[] Repeat(QParams q, int n) { var a = new QParams[n]; Array.Fill(a, q); return a; }

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
        return Int8Linear.Forward(input, Weight, Repeat(WeightQParams, OutFeatures), obs.CalculateQParams(), Bias, InFeatures);
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
    readonly QParams[] _weight;

    internal QuantizedLinear(Linear source, QParams input, QParams[] weight, QParams output)
        : base(source.InFeatures, source.OutFeatures, Int8Math.Codes(source.Weight, weight), source.Bias?.Detach().Clone())
    {
        InputQParams = input.WithFullRange(); _weight = weight; OutputQParams = output.WithFullRange();
    }

    /// <summary>The calibrated input range.</summary>
    public QParams InputQParams { get; }
    /// <summary>The weight's scale and zero point (output channel 0's under a per-channel scheme: see <see cref="WeightChannelQParams"/>).</summary>
    public QParams WeightQParams => _weight[0];
    /// <summary>Each output channel's weight scale and zero point (all equal under a per-tensor scheme).</summary>
    public IReadOnlyList<QParams> WeightChannelQParams => _weight;
    /// <summary>The calibrated output range.</summary>
    public QParams OutputQParams { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        Int8Math.Requantize(Int8Linear.Forward(input, Weight, _weight, InputQParams, Bias, InFeatures), OutputQParams);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, scale={OutputQParams.Scale}, zero_point={OutputQParams.ZeroPoint}";
}

/// <summary>
/// A linear layer watched for post-training quantization (what <see cref="Ao.Prepare"/> puts in): the forward is the
/// float one; observers record the input, weight and output ranges while calibration data runs through.
/// </summary>
public sealed class ObservedLinear : Linear
{
    internal ObservedLinear(Linear source, QConfig config) : base(source) => QuantSlots.AddObservers((n, m) => RegisterModule(n, m), config);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => QuantSlots.Observed(this, input, base.Forward);

    internal QuantizedLinear Convert()
    {
        var (x, w, y) = QuantSlots.Calibrated(this, Weight);
        return new QuantizedLinear(this, x, w, y);
    }
}

/// <summary>
/// A linear layer for quantization-aware training (<c>torch.ao.nn.qat.Linear</c>): its weight and its input go through
/// <see cref="FakeQuantize"/>, and its output too, so training sees the int8 rounding (and the output range) while
/// gradients pass straight through.
/// </summary>
public sealed class QatLinear : Linear
{
    internal QatLinear(Linear source, QConfig config) : base(source) => QuantSlots.AddFakeQuants((n, m) => RegisterModule(n, m), config);

    /// <summary>The input's fake quantization.</summary>
    public FakeQuantize InputFakeQuant => QuantSlots.FakeQuant(this, QuantSlots.InputFakeQuant);
    /// <summary>The weight's fake quantization.</summary>
    public FakeQuantize WeightFakeQuant => QuantSlots.FakeQuant(this, QuantSlots.WeightFakeQuant);
    /// <summary>The output's fake quantization (the quantized layer's output grid).</summary>
    public FakeQuantize OutputFakeQuant => QuantSlots.FakeQuant(this, QuantSlots.Output);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        OutputFakeQuant.Forward(F.Linear(InputFakeQuant.Forward(input), WeightFakeQuant.Forward(Weight), Bias));

    /// <summary>Freezes every range (<c>disable_observer</c>): the fake-quantized forward is then exactly the converted layer's.</summary>
    public void DisableObservers() => QuantSlots.DisableObservers(this);

    internal QuantizedLinear Convert()
    {
        var (x, w, y) = QuantSlots.Trained(this, OutFeatures);
        return new QuantizedLinear(this, x, w, y);
    }
}
