namespace Kiln.NN.Pruning;

/// <summary>
/// Prunes the entries of smallest magnitude (<c>prune.L1Unstructured</c>): <see cref="Amount"/> of them, by |score|; among
/// equal magnitudes the earlier entry goes first.
/// </summary>
/// <param name="amount">A fraction (double) or a count (int) of the entries.</param>
public sealed class L1Unstructured(PruningAmount amount) : PruningMethod
{
    /// <summary>How many entries to prune.</summary>
    public PruningAmount Amount { get; } = amount;

    /// <inheritdoc/>
    public override PruningType Type => PruningType.Unstructured;

    /// <inheritdoc/>
    public override Tensor ComputeMask(Tensor importanceScores, Tensor defaultMask)
    {
        int k = Amount.Of(importanceScores.Numel, "l1_unstructured");
        if (k == 0) return defaultMask.Clone();
        using var abs = importanceScores.Abs();
        using var flat = abs.Reshape(-1);
        using var smallest = Top(flat, k, largest: false, defaultMask.Device);
        return ZeroAt(defaultMask, smallest);
    }
}
