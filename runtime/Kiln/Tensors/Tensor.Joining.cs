using System;
using System.Collections.Generic;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>Concatenates along <paramref name="dim"/> (<c>torch.cat</c>), promoting dtypes.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        var shapes = new int[tensors.Count][];
        for (int i = 0; i < tensors.Count; i++) shapes[i] = tensors[i]._shape;
        var shape = ShapeRules.Cat(shapes, dim);
        var dtype = tensors[0].DType;
        for (int i = 1; i < tensors.Count; i++)
        {
            CheckSameDevice("cat", tensors[0], tensors[i]);
            dtype = DTypes.Promote(dtype, tensors[i].DType);
        }
        var result = Allocate(shape, dtype, false, tensors[0].Device);
        int d = shape.Length == 0 ? 0 : ShapeRules.NormalizeDim("cat", dim, shape.Length);
        long at = 0;
        foreach (var t in tensors)
        {
            if (t._shape.Length == 1 && t._shape[0] == 0 && shape.Length != 1) continue;
            int len = t._shape[d];
            using var part = result.Narrow(d, at, len);
            Kernels.CopyKernel.Copy(part, t);
            at += len;
        }
        return RecordMany("cat", result, new DimArgs(dim), tensors);
    }

    /// <summary>Concatenates the given tensors along dim 0.</summary>
    public static Tensor Cat(params Tensor[] tensors) => Cat(tensors, 0);

    /// <summary>Stacks along a new dim (<c>torch.stack</c>).</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        var shapes = new int[tensors.Count][];
        for (int i = 0; i < tensors.Count; i++) shapes[i] = tensors[i]._shape;
        var shape = ShapeRules.Stack(shapes, dim);
        int d = ShapeRules.NormalizeDim("stack", dim, shape.Length);
        var parts = new Tensor[tensors.Count];
        for (int i = 0; i < parts.Length; i++) parts[i] = tensors[i].Unsqueeze(d);
        try { return Cat(parts, d); }
        finally { foreach (var p in parts) p.Dispose(); }
    }

    /// <summary>Concatenates column-wise (<c>torch.hstack</c>): along dim 1, or dim 0 when every tensor is 1-D.</summary>
    public static Tensor Hstack(params Tensor[] tensors)
    {
        if (tensors is not { Length: > 0 }) throw new KilnException("hstack", "hstack: expects a non-empty list of tensors");
        bool vectors = true;
        foreach (var t in tensors) vectors &= t.Dim <= 1;
        if (!vectors) return Cat(tensors, 1);
        return CatReshaped(tensors, 0, t => t.Dim == 0 ? [1] : null);
    }

    /// <summary>Concatenates row-wise (<c>torch.vstack</c>): 0-D and 1-D tensors become rows [1, n] first.</summary>
    public static Tensor Vstack(params Tensor[] tensors)
    {
        if (tensors is not { Length: > 0 }) throw new KilnException("vstack", "vstack: expects a non-empty list of tensors");
        return CatReshaped(tensors, 0, t => t.Dim >= 2 ? null : [1, t.Dim == 0 ? 1 : t.Size(0)]);
    }

    // Cat of the tensors, each first reshaped to shapeOf(t) where that is not null (the reshaped copies are ours to free).
    static Tensor CatReshaped(Tensor[] tensors, int dim, Func<Tensor, int[]?> shapeOf)
    {
        var parts = new Tensor[tensors.Length];
        var owned = new bool[tensors.Length];
        try
        {
            for (int i = 0; i < parts.Length; i++)
            {
                var shape = shapeOf(tensors[i]);
                owned[i] = shape is not null;
                parts[i] = shape is null ? tensors[i] : tensors[i].Reshape(shape);
            }
            return Cat(parts, dim);
        }
        finally
        {
            for (int i = 0; i < parts.Length; i++) if (owned[i]) parts[i]?.Dispose();
        }
    }

    /// <summary>
    /// Coordinate grids from 1-D tensors (<c>torch.meshgrid</c>): with <paramref name="indexing"/> "ij" output i varies
    /// along dim i; with "xy" (NumPy's default) the first two dims are swapped. Each output is an expanded view.
    /// </summary>
    public static Tensor[] Meshgrid(IReadOnlyList<Tensor> tensors, string indexing = "ij")
    {
        const string op = "meshgrid";
        if (indexing != "ij" && indexing != "xy") throw new KilnException(op, $"{op}: indexing must be one of \"xy\" or \"ij\", but received: {indexing}");
        if (tensors.Count == 0) throw new KilnException(op, $"{op}: expects a non-empty list of tensors");
        var sizes = new int[tensors.Count];
        for (int i = 0; i < sizes.Length; i++)
        {
            var t = tensors[i];
            if (t.Dim > 1) throw new KilnException(op, $"{op}: Expected 0D or 1D tensor in the tensor list but got: {ShapeText.Format(t._shape)}", KilnErrorKind.Shape);
            if (i > 0) CheckSameDevice(op, tensors[0], t);
            sizes[i] = t.Dim == 0 ? 1 : t._shape[0];
        }
        bool swap = indexing == "xy" && sizes.Length >= 2;
        var grid = (int[])sizes.Clone();
        if (swap) (grid[0], grid[1]) = (grid[1], grid[0]);
        var r = new Tensor[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
        {
            int axis = swap && i < 2 ? 1 - i : i; // where input i varies in the grid
            var view = new int[grid.Length];
            Array.Fill(view, 1);
            view[axis] = sizes[i];
            using var column = tensors[i].Reshape(view);
            r[i] = column.Expand(grid);
        }
        return r;
    }

    /// <summary>Coordinate grids from 1-D tensors, "ij" indexing (<c>torch.meshgrid(*tensors, indexing="ij")</c>).</summary>
    public static Tensor[] Meshgrid(params Tensor[] tensors) => Meshgrid(tensors, "ij");

    /// <summary>Splits into views of <paramref name="splitSize"/> along a dim (the last may be smaller).</summary>
    public Tensor[] Split(int splitSize, int dim = 0)
    {
        int d = ShapeRules.NormalizeDim("split", dim, _shape.Length);
        if (splitSize <= 0 && _shape[d] > 0) throw new KilnException("split", $"split: split_size must be positive, got {splitSize}", KilnErrorKind.Shape);
        int size = _shape[d];
        int n = size == 0 ? 1 : (size + splitSize - 1) / splitSize;
        var r = new Tensor[n];
        for (int i = 0; i < n; i++) r[i] = Narrow(d, (long)i * splitSize, Math.Min(splitSize, size - i * splitSize));
        return r;
    }

    /// <summary>Splits into views with the given sizes along a dim.</summary>
    public Tensor[] Split(int[] sizes, int dim = 0)
    {
        int d = ShapeRules.NormalizeDim("split", dim, _shape.Length);
        long total = 0;
        foreach (int s in sizes) total += s;
        if (total != _shape[d])
            throw new KilnException("split", $"split: split sizes [{string.Join(", ", sizes)}] must sum to the size {_shape[d]} of dimension {d} (shape {ShapeText.Format(_shape)})", KilnErrorKind.Shape);
        var r = new Tensor[sizes.Length];
        long at = 0;
        for (int i = 0; i < sizes.Length; i++) { r[i] = Narrow(d, at, sizes[i]); at += sizes[i]; }
        return r;
    }

    /// <summary>Splits into <paramref name="chunks"/> nearly equal views (<c>chunk</c>).</summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        if (chunks <= 0) throw new KilnException("chunk", $"chunk: number of chunks must be greater than 0, got {chunks}");
        int d = ShapeRules.NormalizeDim("chunk", dim, _shape.Length);
        int size = (_shape[d] + chunks - 1) / chunks;
        return Split(Math.Max(size, 1), d);
    }

    /// <summary>Tiles the tensor (<c>repeat</c>); there may be more repeats than dims.</summary>
    public Tensor Repeat(params int[] repeats)
    {
        var final = ShapeRules.Repeat(_shape, repeats);
        // Tile through a broadcast view: [1, s0, 1, s1, ...] expanded to [r0, s0, r1, s1, ...], then copied.
        int lead = repeats.Length - _shape.Length;
        var viewShape = new List<int>(); var expandShape = new List<int>();
        for (int i = 0; i < repeats.Length; i++)
        {
            int s = i < lead ? 1 : _shape[i - lead];
            viewShape.Add(1); viewShape.Add(s);
            expandShape.Add(repeats[i]); expandShape.Add(s);
        }
        using var v = Reshape(viewShape.ToArray());
        using var e = v.Expand(expandShape.ToArray());
        using var c = e.Contiguous();
        return c.View(final);
    }

    /// <summary>Lower triangle of the last two dims, zeroing above diagonal <paramref name="diagonal"/> (<c>tril</c>).</summary>
    public Tensor Tril(int diagonal = 0) => Record("tril", Triangle("tril", diagonal, lower: true), new DiagonalArgs(diagonal), this);

    /// <summary>Upper triangle of the last two dims (<c>triu</c>).</summary>
    public Tensor Triu(int diagonal = 0) => Record("triu", Triangle("triu", diagonal, lower: false), new DiagonalArgs(diagonal), this);

    Tensor Triangle(string op, int diagonal, bool lower)
    {
        if (_shape.Length < 2) throw new KilnException(op, $"{op}: input tensor must have at least 2 dimensions, got shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        return Backend.Triangle(this, diagonal, lower);
    }
}
