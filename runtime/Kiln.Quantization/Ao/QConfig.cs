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

    /// <summary>Quantization-aware training: moving-average activation ranges, min-max symmetric weights, both fake-quantized.</summary>
    public static QConfig Qat { get; } = new(() => new MovingAverageMinMaxObserver(), () => new MovingAverageMinMaxObserver(dtype: QDType.QInt8, scheme: QScheme.PerTensorSymmetric));
}
