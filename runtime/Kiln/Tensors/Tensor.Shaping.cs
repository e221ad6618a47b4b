using System;
using System.Collections.Generic;
using Kiln.Compiler.Shapes;

namespace Kiln;

// torch's small shape helpers: at-least-n-D views, depth and column stacking, broadcasting a list, left-right and
// up-down flips, ravel. Each is a composition of views, cat and expand, so gradients flow through them.
public sealed partial class Tensor
{
    /// <summary>This tensor with at least one dim (<c>torch.atleast_1d</c>): a 0-D tensor becomes [1], others are unchanged views.</summary>
    public Tensor Atleast1d() => Dim >= 1 ? View(_shape) : Reshape(1);

    /// <summary>At least two dims (<c>torch.atleast_2d</c>): 0-D → [1, 1], [n] → [1, n].</summary>
    public Tensor Atleast2d() => Dim switch { 0 => Reshape(1, 1), 1 => Unsqueeze(0), _ => View(_shape) };

    /// <summary>At least three dims (<c>torch.atleast_3d</c>): 0-D → [1, 1, 1], [n] → [1, n, 1], [m, n] → [m, n, 1].</summary>
    public Tensor Atleast3d() => Dim switch
    {
        0 => Reshape(1, 1, 1),
        1 => Reshape(1, Size(0), 1),
        2 => Unsqueeze(2),
        _ => View(_shape),
    };

    /// <summary>Concatenates depth-wise (<c>torch.dstack</c>): each tensor made at least 3-D, then joined along dim 2.</summary>
    public static Tensor Dstack(params Tensor[] tensors)
    {
        if (tensors is not { Length: > 0 }) throw new KilnException("dstack", "dstack: expects a non-empty list of tensors");
        return CatReshaped(tensors, 2, t => t.Dim >= 3 ? null : t.Dim switch { 0 => [1, 1, 1], 1 => [1, t.Size(0), 1], _ => [t.Size(0), t.Size(1), 1] });
    }

    /// <summary>Stacks as columns (<c>torch.column_stack</c>): 0-D and 1-D tensors become [n, 1] columns, then joined along dim 1.</summary>
    public static Tensor ColumnStack(params Tensor[] tensors)
    {
        if (tensors is not { Length: > 0 }) throw new KilnException("column_stack", "column_stack: expects a non-empty list of tensors");
        return CatReshaped(tensors, 1, t => t.Dim >= 2 ? null : [t.Dim == 0 ? 1 : t.Size(0), 1]);
    }

    /// <summary>Stacks as rows (<c>torch.row_stack</c>, the same as <see cref="Vstack"/>).</summary>
    public static Tensor RowStack(params Tensor[] tensors) => Vstack(tensors);

    /// <summary>The shape every one of <paramref name="shapes"/> broadcasts to (<c>torch.broadcast_shapes</c>).</summary>
    public static int[] BroadcastShapes(params int[][] shapes)
    {
        var result = Array.Empty<int>();
        foreach (var s in shapes) result = ShapeRules.Broadcast("broadcast_shapes", result, s);
        return result;
    }

    /// <summary>Each tensor expanded to the common broadcast shape (<c>torch.broadcast_tensors</c>); views, no copies.</summary>
    public static Tensor[] BroadcastTensors(params Tensor[] tensors)
    {
        var shapes = new int[tensors.Length][];
        for (int i = 0; i < shapes.Length; i++) shapes[i] = tensors[i]._shape;
        var shape = BroadcastShapes(shapes);
        var result = new Tensor[tensors.Length];
        for (int i = 0; i < result.Length; i++) result[i] = tensors[i].Expand(shape);
        return result;
    }

    /// <summary>Reverses the columns (dim 1) of a tensor of at least 2 dims (<c>torch.fliplr</c>).</summary>
    public Tensor Fliplr() => Dim >= 2 ? Flip(1) : throw new KilnException("fliplr", $"fliplr: input must be >= 2-d, got {ShapeText.Format(_shape)}", KilnErrorKind.Shape);

    /// <summary>Reverses the rows (dim 0) of a tensor of at least 1 dim (<c>torch.flipud</c>).</summary>
    public Tensor Flipud() => Dim >= 1 ? Flip(0) : throw new KilnException("flipud", $"flipud: input must be >= 1-d, got {ShapeText.Format(_shape)}", KilnErrorKind.Shape);

    /// <summary>The elements as one dim, a view when the layout allows (<c>torch.ravel</c>).</summary>
    public Tensor Ravel() => Reshape(-1);
}
