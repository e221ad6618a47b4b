using System;

namespace Kiln.Quantization;

/// <summary>
/// Which observers watch a layer's activations and weights (torch.ao's <c>QConfig</c>): factories, since each layer
/// gets its own. The presets follow torch.ao's defaults.
/// </summary>
public sealed record QConfig(Func<Observer> Activation, Func<Observer> Weight)
{
    /// <summary>Post-training quantization with min-max observers: quint8 affine activations, qint8 symmetric weights.</summary>
    public static QConfig MinMax { get; } = new(() => new MinMaxObserver(), () => new MinMaxObserver(QDType.QInt8, QScheme.PerTensorSymmetric));

    /// <summary>Post-training quantization with histogram-searched activation ranges (torch.ao's default activation observer).</summary>
    public static QConfig Histogram { get; } = new(() => new HistogramObserver(), () => new MinMaxObserver(QDType.QInt8, QScheme.PerTensorSymmetric));

    /// <summary>
    /// torch.ao's <c>get_default_qconfig("fbgemm")</c>: histogram-searched quint8 activations with reduce_range, qint8 weights
    /// with a symmetric scale per output channel.
    /// </summary>
    public static QConfig Fbgemm { get; } = new(() => new HistogramObserver(reduceRange: true), () => new PerChannelMinMaxObserver());

    /// <summary>
    /// torch.ao's <c>get_default_qat_qconfig("fbgemm")</c>: moving-average quint8 activation ranges with reduce_range, and
    /// moving-average per-channel symmetric qint8 weights, all fake-quantized.
    /// </summary>
    public static QConfig FbgemmQat { get; } = new(() => new MovingAverageMinMaxObserver(reduceRange: true), () => new MovingAveragePerChannelMinMaxObserver());

    /// <summary>Quantization-aware training: moving-average activation ranges, min-max symmetric weights, both fake-quantized.</summary>
    public static QConfig Qat { get; } = new(() => new MovingAverageMinMaxObserver(), () => new MovingAverageMinMaxObserver(dtype: QDType.QInt8, scheme: QScheme.PerTensorSymmetric));
}
