namespace Kiln.NN.Pruning;

/// <summary>Prunes entries chosen at random (<c>prune.RandomUnstructured</c>): <see cref="Amount"/> of them, each set equally likely.</summary>
/// <param name="amount">A fraction (double) or a count (int) of the entries.</param>
/// <param name="generator">The generator to draw from; the default generator when null.</param>
public sealed class RandomUnstructured(PruningAmount amount, Generator? generator = null) : PruningMethod
{
    /// <summary>How many entries to prune.</summary>
    public PruningAmount Amount { get; } = amount;

    /// <inheritdoc/>
    public override PruningType Type => PruningType.Unstructured;

    /// <inheritdoc/>
    public override Tensor ComputeMask(Tensor importanceScores, Tensor defaultMask)
    {
        int k = Amount.Of(importanceScores.Numel, "random_unstructured");
        if (k == 0) return defaultMask.Clone();
        // As PyTorch: a uniform draw per entry, the k largest draws pruned.
        using var draws = Tensor.Rand([(int)importanceScores.Numel], DType.Float32, generator);
        using var chosen = Top(draws, k, largest: true, defaultMask.Device);
        return ZeroAt(defaultMask, chosen);
    }
}
