namespace Kiln.NN.Pruning;

/// <summary>
/// Prunes the slices along <see cref="StructuredPruningMethod.Dim"/> of smallest Lₙ norm (<c>prune.LnStructured</c>):
/// each slice's norm over every other dim, the largest kept; among equal norms the earlier slice is kept.
/// </summary>
/// <param name="amount">A fraction (double) or a count (int) of the slices.</param>
/// <param name="n">The norm's order: 1, 2, any p, <see cref="double.PositiveInfinity"/> or <see cref="double.NegativeInfinity"/> (2 is PyTorch's 'fro').</param>
/// <param name="dim">The dimension whose slices are pruned (for a Linear or Conv weight, 0 prunes output channels).</param>
public sealed class LnStructured(PruningAmount amount, double n, int dim = -1) : StructuredPruningMethod(dim)
{
    /// <summary>How many slices to prune.</summary>
    public PruningAmount Amount { get; } = amount;

    /// <summary>The norm's order.</summary>
    public double N { get; } = n;

    /// <inheritdoc/>
    public override Tensor ComputeMask(Tensor importanceScores, Tensor defaultMask)
    {
        const string op = "ln_structured";
        int d = CheckedDim(importanceScores, op);
        int channels = importanceScores.ShapeArray[d];
        int k = Amount.Of(channels, op);
        if (k == 0) return defaultMask.Clone();
        using var norms = importanceScores.Norm(N, OtherDims(importanceScores.Dim, d));
        using var keep = Top(norms, channels - k, largest: true, defaultMask.Device);
        return KeepSlices(importanceScores, d, keep, defaultMask);
    }
}
