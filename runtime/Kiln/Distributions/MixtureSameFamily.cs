using System;
using Kiln.Compiler.Shapes;

namespace Kiln.Distributions;

/// <summary>
/// A mixture of K components of one family (<c>torch.distributions.MixtureSameFamily</c>): a categorical over the
/// rightmost batch dim of the component distribution picks which component each draw comes from (a Gaussian mixture
/// model, a mixture density network's head).
/// </summary>
public sealed class MixtureSameFamily : Distribution
{
    /// <summary>
    /// Mixtures of <paramref name="componentDistribution"/> (batch [..., K]) weighted by
    /// <paramref name="mixtureDistribution"/> (a categorical of batch [...] over K).
    /// </summary>
    public MixtureSameFamily(Categorical mixtureDistribution, Distribution componentDistribution)
        : base(BatchOf(mixtureDistribution, componentDistribution), componentDistribution.EventShape)
    {
        Mixture = mixtureDistribution;
        Component = componentDistribution;
    }

    /// <summary>The categorical that weighs the components.</summary>
    public Categorical Mixture { get; }

    /// <summary>The components, their rightmost batch dim the K of the mixture.</summary>
    public Distribution Component { get; }

    /// <inheritdoc/>
    public override bool HasRSample => false;

    /// <summary>Σₖ πₖ·meanₖ.</summary>
    public override Tensor Mean
    {
        get
        {
            using var means = Component.Mean;
            using var weights = PaddedProbs();
            using var weighted = weights * means;
            return weighted.Sum(KDim);
        }
    }

    /// <summary>Σₖ πₖ·varₖ + Σₖ πₖ·(meanₖ - mean)² (the law of total variance).</summary>
    public override Tensor Variance
    {
        get
        {
            using var weights = PaddedProbs();
            using var variances = Component.Variance;
            using var weightedVariances = weights * variances;
            using var within = weightedVariances.Sum(KDim);
            using var means = Component.Mean;
            using var mean = Mean;
            using var centre = mean.Unsqueeze(KDim);
            using var offsets = means - centre;
            using var squares = offsets.Square();
            using var weightedSquares = weights * squares;
            using var between = weightedSquares.Sum(KDim);
            return within + between;
        }
    }

    /// <summary>log Σₖ πₖ·pₖ(x), as a log-sum-exp of the components' log densities and the mixture's log weights.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var padded = value.Unsqueeze(KDim);
        using var logProbs = Component.LogProb(padded);                 // [..., K]
        using var logWeights = Mixture.Logits.LogSoftmax(-1);
        using var joint = logProbs + logWeights;
        return joint.LogSumExp(-1);
    }

    /// <summary>A component drawn from the mixture for each sample, then that component's draw (no gradient).</summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        var samples = sampleShape ?? [];
        using var picks = Mixture.Sample(samples, generator);              // sampleShape + batch
        using var draws = Component.Sample(samples, generator);            // sampleShape + batch + [K] + event
        int kDim = samples.Length + BatchShape.Length;
        var indexShape = new int[draws.Dim];
        for (int d = 0; d < indexShape.Length; d++) indexShape[d] = d == kDim ? 1 : draws.Size(d);
        var viewShape = new int[draws.Dim];
        for (int d = 0; d < viewShape.Length; d++) viewShape[d] = d <= kDim ? (d == kDim ? 1 : picks.Size(d)) : 1;
        using var index = picks.Reshape(viewShape);
        using var spread = index.Expand(indexShape);
        using var chosen = draws.Gather(kDim, spread);
        return chosen.Squeeze(kDim);
    }

    /// <summary>No closed form (PyTorch's MixtureSameFamily has none either).</summary>
    public override Tensor Entropy() =>
        throw new KilnException("MixtureSameFamily.entropy", "MixtureSameFamily.entropy: a mixture's entropy has no closed form", KilnErrorKind.Unsupported);

    /// <summary>Σₖ πₖ·Fₖ(x), where the components have a cdf.</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var padded = value.Unsqueeze(KDim);
        using var cdfs = Component.Cdf(padded);
        using var weighted = cdfs * Mixture.Probs;
        return weighted.Sum(-1);
    }

    /// <summary>The components' K dim counted from the right: just before their event dims.</summary>
    int KDim => -1 - EventShape.Length;

    /// <summary>The mixture's probabilities with a 1 for each event dim, to weigh per-component moments.</summary>
    Tensor PaddedProbs()
    {
        var shape = new int[Mixture.Probs.Dim + EventShape.Length];
        for (int d = 0; d < shape.Length; d++) shape[d] = d < Mixture.Probs.Dim ? Mixture.Probs.Size(d) : 1;
        return Mixture.Probs.Reshape(shape);
    }

    static int[] BatchOf(Categorical mixture, Distribution component)
    {
        const string op = "MixtureSameFamily";
        var cb = component.BatchShape;
        if (cb.Length < 1)
            throw new KilnException(op, $"{op}: the component distribution needs a batch dim for the components, got batch shape {ShapeText.Format(cb)}", KilnErrorKind.Shape);
        if (mixture.NumEvents != cb[^1])
            throw new KilnException(op, $"{op}: the mixture's number of categories ({mixture.NumEvents}) does not match the components' rightmost batch dim ({cb[^1]})", KilnErrorKind.Shape);
        var batch = cb[..^1];
        if (!mixture.BatchShape.AsSpan().SequenceEqual(batch))
            throw new KilnException(op, $"{op}: the mixture's batch shape {ShapeText.Format(mixture.BatchShape)} does not match the components' {ShapeText.Format(batch)} (their batch shape without its last dim)", KilnErrorKind.Shape);
        return batch;
    }

    /// <summary>The components' support.</summary>
    public override Constraint Support => Component.Support;
}
