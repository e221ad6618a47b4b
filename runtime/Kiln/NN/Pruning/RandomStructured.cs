namespace Kiln.NN.Pruning;

/// <summary>Prunes slices along <see cref="StructuredPruningMethod.Dim"/> chosen at random (<c>prune.RandomStructured</c>).</summary>
/// <param name="amount">A fraction (double) or a count (int) of the slices.</param>
/// <param name="dim">The dimension whose slices are pruned.</param>
/// <param name="generator">The generator to draw from; the default generator when null.</param>
public sealed class RandomStructured(PruningAmount amount, int dim = -1, Generator? generator = null) : StructuredPruningMethod(dim)
{
    /// <summary>How many slices to prune.</summary>
    public PruningAmount Amount { get; } = amount;

    /// <inheritdoc/>
    public override Tensor ComputeMask(Tensor importanceScores, Tensor defaultMask)
    {
        const string op = "random_structured";
        int d = CheckedDim(importanceScores, op);
        int channels = importanceScores.ShapeArray[d];
        int k = Amount.Of(channels, op);
        if (k == 0) return defaultMask.Clone();
        // A uniform draw per slice; the k smallest draws are pruned (PyTorch keeps those above the k-th smallest).
        using var draws = Tensor.Rand([channels], DType.Float32, generator);
        using var keep = Top(draws, channels - k, largest: true, defaultMask.Device);
        return KeepSlices(importanceScores, d, keep, defaultMask);
    }
}
