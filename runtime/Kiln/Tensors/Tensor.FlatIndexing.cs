using System;
using Kiln.Compiler.Shapes;

namespace Kiln;

// Indexing through the flattened tensor and reductions by index: take/put, masked_scatter, index_reduce, argwhere,
// unravel_index. Written with index_select / index_copy / index_add / scatter_reduce, so gradients are theirs.
public sealed partial class Tensor
{
    /// <summary>
    /// The elements at <paramref name="index"/> of this tensor read as 1-D (<c>torch.take</c>), in the index's shape;
    /// negative indices count from the end.
    /// </summary>
    public Tensor Take(Tensor index)
    {
        using var scope = Tensor.Scope();
        using var positions = FlatPositions("take", index);
        using var flat = Reshape(-1);
        using var picked = flat.IndexSelect(0, positions);
        return scope.Keep(picked.Reshape(index._shape));
    }

    /// <summary>
    /// A copy with <paramref name="source"/>'s elements written (or, with <paramref name="accumulate"/>, added) at
    /// <paramref name="index"/> of this tensor read as 1-D (<c>Tensor.put</c>).
    /// </summary>
    public Tensor Put(Tensor index, Tensor source, bool accumulate = false)
    {
        using var scope = Tensor.Scope();
        const string op = "put";
        if (source.Numel != index.Numel)
            throw new KilnException(op, $"{op}: source has {source.Numel} elements for {index.Numel} indices (shapes {ShapeText.Format(source._shape)} and {ShapeText.Format(index._shape)})", KilnErrorKind.Shape);
        using var positions = FlatPositions(op, index);
        using var flat = Reshape(-1);
        using var values = source.Reshape(-1);
        using var written = accumulate ? flat.IndexAdd(0, positions, values) : flat.IndexCopy(0, positions, values);
        return scope.Keep(written.Reshape(_shape));
    }

    /// <summary>
    /// A copy with the positions where <paramref name="mask"/> (broadcast to this shape) is true filled, in row-major
    /// order, by the first elements of <paramref name="source"/> (<c>torch.masked_scatter</c>).
    /// </summary>
    public Tensor MaskedScatter(Tensor mask, Tensor source)
    {
        const string op = "masked_scatter";
        if (mask.DType != DType.Bool) throw new KilnException(op, $"{op}: expected a bool mask, got {mask.DType}", KilnErrorKind.DType);
        using var full = mask.Expand(_shape);
        using var flatMask = full.Reshape(-1);
        using var hits = flatMask.Nonzero();
        using var positions = hits.Reshape(-1);
        long count = positions.Numel;
        if (source.Numel < count)
            throw new KilnException(op, $"{op}: the mask selects {count} elements, source {ShapeText.Format(source._shape)} has {source.Numel}", KilnErrorKind.Shape);
        using var flatSource = source.Reshape(-1);
        using var used = flatSource.Narrow(0, 0, checked((int)count));
        using var flat = Reshape(-1);
        using var written = flat.IndexCopy(0, positions.To(Device), used);
        return written.Reshape(_shape);
    }

    /// <summary>
    /// A copy with <paramref name="source"/>'s slices reduced into the positions <paramref name="index"/> (1-D) names along
    /// <paramref name="dim"/> (<c>torch.index_reduce</c>): <paramref name="reduce"/> "prod", "mean", "amax" or "amin",
    /// counting this tensor's values too unless <paramref name="includeSelf"/> is false.
    /// </summary>
    public Tensor IndexReduce(int dim, Tensor index, Tensor source, string reduce, bool includeSelf = true)
    {
        const string op = "index_reduce";
        int d = ShapeRules.NormalizeDim(op, dim, Dim);
        if (index.Dim != 1 || index.Size(0) != source.Size(d))
            throw new KilnException(op, $"{op}: expected a 1-D index of {source.Size(d)} entries (source's size along dim {d}), got {ShapeText.Format(index._shape)}", KilnErrorKind.Shape);
        if (reduce is not ("prod" or "mean" or "amax" or "amin"))
            throw new KilnException(op, $"{op}: reduce must be prod, mean, amax or amin, got '{reduce}'");
        // index_reduce is scatter_reduce with the index spread over the source's other dims.
        var shape = new int[source.Dim];
        Array.Fill(shape, 1);
        shape[d] = index.Size(0);
        using var column = index.Reshape(shape);
        using var spread = column.Expand(source._shape);
        var dense = spread.Contiguous();   // not disposed: scatter_reduce's backward reads it
        return ScatterReduce(d, dense, source, reduce, includeSelf);
    }

    /// <summary>The indices of the non-zero elements, one row each (<c>torch.argwhere</c>, the same as <see cref="Nonzero"/>).</summary>
    public Tensor Argwhere() => Nonzero();

    /// <summary>
    /// The coordinates in a tensor of <paramref name="shape"/> of each flat (row-major) index in <paramref name="indices"/>
    /// (<c>torch.unravel_index</c>): one int64 tensor per dim, each of the indices' shape.
    /// </summary>
    public static Tensor[] UnravelIndex(Tensor indices, int[] shape)
    {
        const string op = "unravel_index";
        if (!indices.DType.IsInteger()) throw new KilnException(op, $"{op}: expected integer indices, got {indices.DType}", KilnErrorKind.DType);
        long total = 1;
        foreach (int s in shape) total *= s;
        using var grad = GradMode.Set(false);
        using var wide = indices.To(DType.Int64);
        if (wide.Numel > 0)
        {
            using var lo = wide.Min();
            using var hi = wide.Max();
            if (lo.Item<long>() < 0 || hi.Item<long>() >= total)
                throw new KilnException(op, $"{op}: an index is outside a tensor of shape {ShapeText.Format(shape)} ({total} elements)", KilnErrorKind.Index);
        }
        var result = new Tensor[shape.Length];
        var rest = wide.Clone();
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            using var size = Scalar((long)shape[i]);
            result[i] = rest.Remainder(size);
            var next = rest.FloorDivide(size);
            rest.Dispose();
            rest = next;
        }
        rest.Dispose();
        return result;
    }

    /// <summary>Flat positions of <paramref name="index"/> into this tensor read as 1-D, negatives from the end, checked.</summary>
    Tensor FlatPositions(string op, Tensor index)
    {
        if (index.DType != DType.Int64) throw new KilnException(op, $"{op}: expected an int64 index, got {index.DType}", KilnErrorKind.DType);
        using var flat = index.Reshape(-1);
        if (flat.Numel > 0)
        {
            using var lo = flat.Min();
            using var hi = flat.Max();
            if (lo.Item<long>() < -Numel || hi.Item<long>() >= Numel)
                throw new KilnException(op, $"{op}: an index is outside [-{Numel}, {Numel}) for a tensor of shape {ShapeText.Format(_shape)}", KilnErrorKind.Index);
        }
        using var negative = flat.Lt(0);
        using var shifted = flat.Add(Scalar(Numel));
        return Where(negative, shifted, flat);
    }
}
