namespace Kiln.NN.Pruning;

/// <summary>Prunes where a given mask is 0 (<c>prune.CustomFromMask</c>); applied again, it multiplies into the earlier mask.</summary>
/// <param name="mask">0 where an entry is pruned, 1 where it is kept; the tensor's shape.</param>
public sealed class CustomFromMask(Tensor mask) : PruningMethod
{
    /// <summary>The mask to apply.</summary>
    public Tensor Mask { get; } = mask ?? throw new System.ArgumentNullException(nameof(mask));

    /// <inheritdoc/>
    public override PruningType Type => PruningType.Global;

    /// <inheritdoc/>
    public override Tensor ComputeMask(Tensor importanceScores, Tensor defaultMask)
    {
        if (!Compiler.Shapes.ShapeRules.SameShape(Mask.ShapeArray, defaultMask.ShapeArray))
            throw new KilnException("custom_from_mask", $"custom_from_mask: the mask's shape {Compiler.Shapes.ShapeText.Format(Mask.ShapeArray)} does not match the tensor's {Compiler.Shapes.ShapeText.Format(defaultMask.ShapeArray)}", KilnErrorKind.Shape);
        using var typed = Mask.To(defaultMask.DType);
        using var placed = typed.To(defaultMask.Device);
        return defaultMask * placed;
    }
}
