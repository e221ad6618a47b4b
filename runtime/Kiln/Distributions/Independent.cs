using System;

namespace Kiln.Distributions;

/// <summary>
/// A distribution whose rightmost <see cref="ReinterpretedBatchNdims"/> batch dims count as event dims
/// (<c>torch.distributions.Independent</c>): <c>Independent(Normal(mu, sigma), 1)</c> is a diagonal Gaussian whose
/// log density sums the coordinates'. Samples, mean and variance are the base's.
/// </summary>
public sealed class Independent : Distribution
{
    /// <summary>Reinterprets the last <paramref name="reinterpretedBatchNdims"/> batch dims of <paramref name="baseDistribution"/>.</summary>
    public Independent(Distribution baseDistribution, int reinterpretedBatchNdims)
        : base(Split(baseDistribution, reinterpretedBatchNdims).Batch, Split(baseDistribution, reinterpretedBatchNdims).Event)
    {
        Base = baseDistribution;
        ReinterpretedBatchNdims = reinterpretedBatchNdims;
    }

    /// <summary>The distribution whose batch dims are reinterpreted.</summary>
    public Distribution Base { get; }

    /// <summary>How many of its rightmost batch dims became event dims.</summary>
    public int ReinterpretedBatchNdims { get; }

    static (int[] Batch, int[] Event) Split(Distribution d, int n)
    {
        if (n < 0 || n > d.BatchShape.Length)
            throw new KilnException("Independent", $"Independent: expected 0 <= reinterpreted_batch_ndims <= len(base_distribution.batch_shape) = {d.BatchShape.Length}, actual {n}", KilnErrorKind.Argument);
        int keep = d.BatchShape.Length - n;
        return (d.BatchShape[..keep], [.. d.BatchShape[keep..], .. d.EventShape]);
    }

    /// <inheritdoc/>
    public override Tensor Mean => Base.Mean;

    /// <inheritdoc/>
    public override Tensor Variance => Base.Variance;

    /// <inheritdoc/>
    public override bool HasRSample => Base.HasRSample;

    /// <inheritdoc/>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null) => Base.Sample(sampleShape, generator);

    /// <inheritdoc/>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null) => Base.RSample(sampleShape, generator);

    /// <summary>The base's mode.</summary>
    public override Tensor Mode => Base.Mode;

    /// <summary>The base's log density summed over the reinterpreted dims.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var each = Base.LogProb(value);
        return SumRightmost(each, ReinterpretedBatchNdims);
    }

    /// <summary>The base's entropy summed over the reinterpreted dims.</summary>
    public override Tensor Entropy()
    {
        using var each = Base.Entropy();
        return SumRightmost(each, ReinterpretedBatchNdims);
    }

    /// <summary><paramref name="t"/> summed over its last <paramref name="n"/> dims (a recorded alias when n is 0).</summary>
    internal static Tensor SumRightmost(Tensor t, int n)
    {
        if (n == 0) return t.To(t.DType);
        var dims = new int[n];
        for (int i = 0; i < n; i++) dims[i] = t.Dim - n + i;
        return t.Sum(dims);
    }

    /// <summary>The base's support over the reinterpreted dims.</summary>
    public override Constraint Support => Constraints.Independent(Base.Support, ReinterpretedBatchNdims);
}
