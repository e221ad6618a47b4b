using System;

namespace Kiln.Quantization;

/// <summary>The integer type of a quantized tensor (<c>torch.quint8</c>, <c>torch.qint8</c>).</summary>
public enum QDType
{
    /// <summary>Unsigned 8-bit, 0..255 (activations).</summary>
    QUInt8,
    /// <summary>Signed 8-bit, -128..127 (weights).</summary>
    QInt8,
}

/// <summary>How scale and zero point follow from the observed range (<c>torch.per_tensor_affine</c>, <c>per_tensor_symmetric</c>, <c>per_channel_affine</c>, <c>per_channel_symmetric</c>).</summary>
public enum QScheme
{
    /// <summary>The range [min(min,0), max(max,0)] maps onto the whole integer range.</summary>
    PerTensorAffine,
    /// <summary>A range symmetric about zero; zero point 0 (qint8) or 128 (quint8).</summary>
    PerTensorSymmetric,
    /// <summary>As <see cref="PerTensorAffine"/>, one scale and zero point per channel (<see cref="PerChannelMinMaxObserver"/>).</summary>
    PerChannelAffine,
    /// <summary>As <see cref="PerTensorSymmetric"/>, one scale per channel (torch.ao's default for conv and linear weights on fbgemm).</summary>
    PerChannelSymmetric,
}

/// <summary>
/// A quantization's scale and zero point, and the arithmetic torch.ao uses for them — written once for observers, fake
/// quantization and quantized layers: q = clamp(round(x / scale) + zero_point, qmin, qmax), x̂ = (q − zero_point)·scale.
/// </summary>
public readonly record struct QParams(float Scale, int ZeroPoint, int QuantMin, int QuantMax)
{
    /// <summary>The integer range of <paramref name="dtype"/>, one bit less with <paramref name="reduceRange"/> (<c>reduce_range</c>).</summary>
    public static (int Min, int Max) Range(QDType dtype, bool reduceRange) => (dtype, reduceRange) switch
    {
        (QDType.QUInt8, false) => (0, 255),
        (QDType.QUInt8, true) => (0, 127),
        (QDType.QInt8, false) => (-128, 127),
        _ => (-64, 63),
    };

    /// <summary>The scale and zero point of an observed range (torch's <c>_calculate_qparams</c>, float32 arithmetic).</summary>
    public static QParams FromRange(float min, float max, QDType dtype, QScheme scheme, bool reduceRange)
    {
        var (qmin, qmax) = Range(dtype, reduceRange);
        if (float.IsPositiveInfinity(min) && float.IsNegativeInfinity(max)) return new QParams(1f, 0, qmin, qmax);   // nothing observed
        if (min > max) throw new KilnException("calculate_qparams", $"calculate_qparams: min {min} should be at most max {max}");
        float minNeg = Math.Min(min, 0f), maxPos = Math.Max(max, 0f);
        const float eps = 1.1920928955078125e-07f;   // torch.finfo(torch.float32).eps
        if (scheme is QScheme.PerTensorSymmetric or QScheme.PerChannelSymmetric)
        {
            maxPos = Math.Max(-minNeg, maxPos);
            float scale = Math.Max(maxPos / ((qmax - qmin) / 2f), eps);
            return new QParams(scale, dtype == QDType.QUInt8 ? (qmax + qmin + 1) / 2 : 0, qmin, qmax);
        }
        float s = Math.Max((maxPos - minNeg) / (float)(qmax - qmin), eps);
        int zp = qmin - (int)MathF.Round(minNeg / s);
        return new QParams(s, Math.Clamp(zp, qmin, qmax), qmin, qmax);
    }

    /// <summary>The integer of <paramref name="x"/>: zero_point + round(x·(1/scale)) (half to even), clamped.</summary>
    public int Quantize(float x) => Math.Clamp(ZeroPoint + (int)MathF.Round(x * (1f / Scale)), QuantMin, QuantMax);

    /// <summary>The value of integer <paramref name="q"/>.</summary>
    public float Dequantize(int q) => (q - ZeroPoint) * Scale;

    /// <summary>
    /// These parameters clamping to the whole range of their integer type (0..255 or -128..127). reduce_range only shrinks
    /// the range the scale is computed for; a quantized tensor still holds its dtype's full range, so a converted layer's
    /// input and output clamp there (fake quantization clamps to the reduced range, as torch's does).
    /// </summary>
    public QParams WithFullRange() => QuantMin >= 0 ? this with { QuantMin = 0, QuantMax = 255 } : this with { QuantMin = -128, QuantMax = 127 };

    /// <summary>x rounded to this grid: the value of its integer.</summary>
    public float Round(float x) => Dequantize(Quantize(x));
}
