namespace Kiln.NN.Pruning;

/// <summary>
/// A way to choose which entries of a tensor to zero (<c>torch.nn.utils.prune.BasePruningMethod</c>). Subclass it and
/// override <see cref="ComputeMask"/> for a custom criterion, then apply it with <see cref="Prune.Apply"/>.
/// </summary>
public abstract class PruningMethod
{
    /// <summary>What part of the tensor the method acts on when applied again.</summary>
    public abstract PruningType Type { get; }

    /// <summary>
    /// The mask for <paramref name="importanceScores"/>: <paramref name="defaultMask"/> (ones, or the mask of earlier
    /// prunings) with the entries this method prunes set to 0. Same shape and dtype as <paramref name="defaultMask"/>.
    /// Runs without gradient recording.
    /// </summary>
    public abstract Tensor ComputeMask(Tensor importanceScores, Tensor defaultMask);

    /// <summary>
    /// <paramref name="t"/> with this method's mask applied (<c>BasePruningMethod.prune</c>); the mask is computed from
    /// <paramref name="importanceScores"/> (default <paramref name="t"/>) over <paramref name="defaultMask"/> (default ones).
    /// </summary>
    public Tensor Prune(Tensor t, Tensor? defaultMask = null, Tensor? importanceScores = null)
    {
        System.ArgumentNullException.ThrowIfNull(t);
        Tensor mask;
        using (Autograd.NoGrad())
        {
            using var ones = defaultMask is null ? Tensor.OnesLike(t) : null;
            mask = ComputeMask(importanceScores ?? t, defaultMask ?? ones!);
        }
        using (mask) return t * mask;
    }

    /// <summary>The indices of the <paramref name="k"/> largest (or smallest) of the 1-D <paramref name="scores"/>, on <paramref name="device"/>; ties go to the earlier entry.</summary>
    private protected static Tensor Top(Tensor scores, int k, bool largest, Device device)
    {
        var top = scores.TopK(k, largest: largest);
        top.Values.Dispose();
        if (top.Indices.Device == device) return top.Indices;
        using (top.Indices) return top.Indices.To(device);
    }

    /// <summary>A copy of <paramref name="mask"/> with the entries at flat <paramref name="indices"/> set to 0.</summary>
    private protected static Tensor ZeroAt(Tensor mask, Tensor indices)
    {
        using var flat = mask.Reshape(-1);
        using var zeroed = flat.IndexFill(0, indices, 0);
        return zeroed.Reshape(mask.ShapeArray);
    }

    /// <summary>A mask of <paramref name="like"/>'s shape that keeps only the slices <paramref name="keep"/> along <paramref name="dim"/>, times <paramref name="defaultMask"/>.</summary>
    private protected static Tensor KeepSlices(Tensor like, int dim, Tensor keep, Tensor defaultMask)
    {
        using var zeros = Tensor.ZerosLike(like, defaultMask.DType);
        using var kept = zeros.IndexFill(dim, keep, 1);
        return kept * defaultMask;
    }
}

/// <summary>A pruning method that removes whole slices along one dimension (<c>PRUNING_TYPE = "structured"</c>).</summary>
public abstract class StructuredPruningMethod : PruningMethod
{
    /// <summary>A method pruning slices along <paramref name="dim"/> (negative counts from the end).</summary>
    protected StructuredPruningMethod(int dim) { Dim = dim; }

    /// <summary>The dimension whose slices (channels) are pruned.</summary>
    public int Dim { get; }

    /// <inheritdoc/>
    public sealed override PruningType Type => PruningType.Structured;

    /// <summary>
    /// The dimension <see cref="Dim"/> names in <paramref name="t"/>, checked as PyTorch does: the tensor must have two
    /// dims or more.
    /// </summary>
    private protected int CheckedDim(Tensor t, string op)
    {
        if (t.Dim <= 1)
            throw new KilnException(op, $"{op}: structured pruning can only be applied to multidimensional tensors; got shape {Compiler.Shapes.ShapeText.Format(t.ShapeArray)} with {t.Dim} dims", KilnErrorKind.Shape);
        return Compiler.Shapes.ShapeRules.NormalizeDim(op, Dim, t.Dim);
    }

    /// <summary>Every dim of a rank-<paramref name="rank"/> tensor but <paramref name="dim"/>: what a slice's norm or sum runs over.</summary>
    internal static int[] OtherDims(int rank, int dim)
    {
        var dims = new int[rank - 1];
        for (int i = 0, j = 0; i < rank; i++) if (i != dim) dims[j++] = i;
        return dims;
    }
}
