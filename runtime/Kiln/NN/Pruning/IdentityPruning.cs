namespace Kiln.NN.Pruning;

/// <summary>Prunes nothing (<c>prune.Identity</c>): the mask stays as it was, so a tensor gains the pruned form with no entry removed.</summary>
public sealed class IdentityPruning : PruningMethod
{
    /// <inheritdoc/>
    public override PruningType Type => PruningType.Unstructured;

    /// <inheritdoc/>
    public override Tensor ComputeMask(Tensor importanceScores, Tensor defaultMask) => defaultMask.Clone();
}
