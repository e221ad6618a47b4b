using System;
using Kiln.NN;

namespace Kiln.Quantization;

/// <summary>
/// Records statistics of the tensors that pass through it and turns them into a scale and zero point
/// (torch.ao's observers). The forward returns its input unchanged.
/// </summary>
public abstract class Observer : Module<Tensor, Tensor>
{
    /// <summary>An observer for <paramref name="dtype"/> values under <paramref name="scheme"/>.</summary>
    protected Observer(QDType dtype, QScheme scheme, bool reduceRange) { QuantDType = dtype; Scheme = scheme; ReduceRange = reduceRange; }

    /// <summary>The integer type.</summary>
    public QDType QuantDType { get; }
    /// <summary>Affine or symmetric.</summary>
    public QScheme Scheme { get; }
    /// <summary>One bit less of range (<c>reduce_range</c>).</summary>
    public bool ReduceRange { get; }
    /// <summary>Smallest value seen (+∞ before any).</summary>
    public float Min { get; protected set; } = float.PositiveInfinity;
    /// <summary>Largest value seen (−∞ before any).</summary>
    public float Max { get; protected set; } = float.NegativeInfinity;

    /// <summary>The scale and zero point for what was seen (<c>calculate_qparams</c>).</summary>
    public virtual QParams CalculateQParams() => QParams.FromRange(Min, Max, QuantDType, Scheme, ReduceRange);

    /// <summary>
    /// One scale and zero point per channel of a tensor with <paramref name="channels"/> channels: a per-channel
    /// observer's own, a per-tensor observer's repeated (how a layer quantizes its weight under either).
    /// </summary>
    public virtual QParams[] CalculateQParamsPerChannel(int channels)
    {
        var q = CalculateQParams();
        var all = new QParams[channels];
        System.Array.Fill(all, q);
        return all;
    }

    /// <summary>The dim whose channels get their own parameters (negative counts from the end); null for a per-tensor observer.</summary>
    public virtual int? ChannelAxis => null;

    /// <summary><see cref="ChannelAxis"/> as a dim of <paramref name="input"/>, checked; <paramref name="op"/> names the caller in the error.</summary>
    internal int ChannelDim(Tensor input, string op)
    {
        int axis = ChannelAxis ?? throw new InvalidOperationException("a per-tensor observer has no channel axis");
        int dim = axis < 0 ? axis + input.Dim : axis;
        if (dim < 0 || dim >= input.Dim)
            throw new KilnException(op, $"{op}: ch_axis {axis} is out of range for an input of shape [{string.Join(", ", input.Shape.ToArray())}]", KilnErrorKind.Index);
        return dim;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Numel == 0) return input;
        using var _ = Autograd.NoGrad();
        var x = input.Detach().Cpu().To(DType.Float32).Contiguous();
        Observe(x.AsSpan<float>());
        return input;
    }

    /// <summary>Takes in one tensor's values.</summary>
    protected abstract void Observe(ReadOnlySpan<float> values);

    /// <summary>Min and max of <paramref name="values"/>.</summary>
    protected static (float Min, float Max) MinMax(ReadOnlySpan<float> values)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var v in values) { if (v < lo) lo = v; if (v > hi) hi = v; }
        return (lo, hi);
    }
}

/// <summary>The running min and max (<c>MinMaxObserver</c>).</summary>
public sealed class MinMaxObserver(QDType dtype = QDType.QUInt8, QScheme scheme = QScheme.PerTensorAffine, bool reduceRange = false)
    : Observer(dtype, scheme, reduceRange)
{
    /// <inheritdoc/>
    protected override void Observe(ReadOnlySpan<float> values)
    {
        var (lo, hi) = MinMax(values);
        Min = Math.Min(Min, lo);
        Max = Math.Max(Max, hi);
    }
}

/// <summary>Min and max as exponential moving averages (<c>MovingAverageMinMaxObserver</c>; QAT's activation observer).</summary>
public sealed class MovingAverageMinMaxObserver(double averagingConstant = 0.01, QDType dtype = QDType.QUInt8, QScheme scheme = QScheme.PerTensorAffine, bool reduceRange = false)
    : Observer(dtype, scheme, reduceRange)
{
    /// <summary>Weight of each new batch's min and max.</summary>
    public float AveragingConstant { get; } = (float)averagingConstant;

    /// <inheritdoc/>
    protected override void Observe(ReadOnlySpan<float> values)
    {
        var (lo, hi) = MinMax(values);
        if (float.IsPositiveInfinity(Min) && float.IsNegativeInfinity(Max)) { Min = lo; Max = hi; return; }
        Min += AveragingConstant * (lo - Min);
        Max += AveragingConstant * (hi - Max);
    }
}
