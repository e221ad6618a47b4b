namespace Kiln.NN.Pruning;

/// <summary>
/// What part of a tensor a pruning method acts on when it is applied again (<c>PRUNING_TYPE</c>): a
/// <see cref="PruningContainer"/> hands the next method the entries (or channels) that earlier masks left.
/// </summary>
public enum PruningType
{
    /// <summary>Individual entries: the next method sees the entries not yet pruned, as one vector.</summary>
    Unstructured,
    /// <summary>Whole slices along <see cref="StructuredPruningMethod.Dim"/>: the next method sees the channels not yet pruned throughout.</summary>
    Structured,
    /// <summary>The whole tensor: the next method sees every entry, and its mask is combined with the earlier one.</summary>
    Global,
}
