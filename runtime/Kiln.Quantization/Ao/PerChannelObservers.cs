using System;

namespace Kiln.Quantization;

/// <summary>
/// Min and max per channel along <see cref="ChannelAxis"/> (torch.ao's <c>PerChannelMinMaxObserver</c>; the fbgemm
/// default weight observer with qint8 and <see cref="QScheme.PerChannelSymmetric"/>): each output channel of a weight
/// gets its own scale, so a channel of small weights keeps its precision next to one of large weights.
/// </summary>
public class PerChannelMinMaxObserver : Observer
{
    readonly int _axis;
    float[] _min = [], _max = [];

    /// <summary>A per-channel observer over dim <paramref name="chAxis"/>.</summary>
    public PerChannelMinMaxObserver(int chAxis = 0, QDType dtype = QDType.QInt8, QScheme scheme = QScheme.PerChannelSymmetric, bool reduceRange = false)
        : base(dtype, scheme, reduceRange)
    {
        if (scheme is not (QScheme.PerChannelAffine or QScheme.PerChannelSymmetric))
            throw new KilnException("PerChannelMinMaxObserver", $"PerChannelMinMaxObserver: qscheme {scheme} is not a per-channel scheme (PerChannelAffine, PerChannelSymmetric)", KilnErrorKind.Argument);
        _axis = chAxis;
    }

    /// <inheritdoc/>
    public override int? ChannelAxis => _axis;

    /// <summary>The smallest value seen in each channel.</summary>
    public ReadOnlySpan<float> MinPerChannel => _min;
    /// <summary>The largest value seen in each channel.</summary>
    public ReadOnlySpan<float> MaxPerChannel => _max;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Numel == 0) return input;
        int axis = ChannelDim(input, "PerChannelMinMaxObserver");
        int channels = input.Size(axis);
        if (_min.Length == 0) { _min = new float[channels]; _max = new float[channels]; Array.Fill(_min, float.PositiveInfinity); Array.Fill(_max, float.NegativeInfinity); }
        else if (_min.Length != channels)
            throw new KilnException("PerChannelMinMaxObserver", $"PerChannelMinMaxObserver: saw {_min.Length} channels before, now {channels} (dim {axis} of [{string.Join(", ", input.Shape.ToArray())}])", KilnErrorKind.Shape);
        using var _ = Autograd.NoGrad();
        var x = input.Detach().Cpu().To(DType.Float32).Contiguous();
        var v = x.AsSpan<float>();
        // Channel c of dim `axis` is, in the contiguous layout, `outer` runs of `inner` values each.
        long inner = 1;
        for (int d = axis + 1; d < x.Dim; d++) inner *= x.Size(d);
        long outer = v.Length / (inner * channels);
        var lo = new float[channels];
        var hi = new float[channels];
        Array.Fill(lo, float.PositiveInfinity); Array.Fill(hi, float.NegativeInfinity);
        for (long o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                var (a, b) = MinMax(v.Slice((int)((o * channels + c) * inner), (int)inner));
                lo[c] = Math.Min(lo[c], a); hi[c] = Math.Max(hi[c], b);
            }
        Update(lo, hi, _min, _max);
        return input;
    }

    /// <summary>Folds one batch's per-channel range into the running one (here: the overall min and max).</summary>
    protected virtual void Update(float[] lo, float[] hi, float[] min, float[] max)
    {
        for (int c = 0; c < lo.Length; c++) { min[c] = Math.Min(min[c], lo[c]); max[c] = Math.Max(max[c], hi[c]); }
    }

    /// <inheritdoc/>
    protected override void Observe(ReadOnlySpan<float> values) =>
        throw new InvalidOperationException("per-channel observers take whole tensors (Forward)");

    /// <summary>A per-channel observer has no single scale: use <see cref="CalculateQParamsPerChannel"/>.</summary>
    public override QParams CalculateQParams() =>
        throw new KilnException("calculate_qparams", $"calculate_qparams: a per-channel observer ({_min.Length} channels) has one scale per channel; use CalculateQParamsPerChannel", KilnErrorKind.Argument);

    /// <inheritdoc/>
    public override QParams[] CalculateQParamsPerChannel(int channels)
    {
        if (_min.Length == 0)
        {
            // Nothing observed: torch returns scale 1, zero point 0 for each channel.
            var none = new QParams[channels];
            Array.Fill(none, QParams.FromRange(float.PositiveInfinity, float.NegativeInfinity, QuantDType, Scheme, ReduceRange));
            return none;
        }
        if (channels != _min.Length)
            throw new KilnException("calculate_qparams", $"calculate_qparams: the observer saw {_min.Length} channels, {channels} were asked for", KilnErrorKind.Shape);
        var q = new QParams[channels];
        for (int c = 0; c < channels; c++) q[c] = QParams.FromRange(_min[c], _max[c], QuantDType, Scheme, ReduceRange);
        return q;
    }
}

/// <summary>Per-channel min and max as exponential moving averages (<c>MovingAveragePerChannelMinMaxObserver</c>; the fbgemm QAT weight observer).</summary>
public sealed class MovingAveragePerChannelMinMaxObserver(double averagingConstant = 0.01, int chAxis = 0, QDType dtype = QDType.QInt8, QScheme scheme = QScheme.PerChannelSymmetric, bool reduceRange = false)
    : PerChannelMinMaxObserver(chAxis, dtype, scheme, reduceRange)
{
    /// <summary>Weight of each new batch's min and max.</summary>
    public float AveragingConstant { get; } = (float)averagingConstant;

    /// <inheritdoc/>
    protected override void Update(float[] lo, float[] hi, float[] min, float[] max)
    {
        for (int c = 0; c < lo.Length; c++)
        {
            if (float.IsPositiveInfinity(min[c]) && float.IsNegativeInfinity(max[c])) { min[c] = lo[c]; max[c] = hi[c]; continue; }
            min[c] += AveragingConstant * (lo[c] - min[c]);
            max[c] += AveragingConstant * (hi[c] - max[c]);
        }
    }
}
