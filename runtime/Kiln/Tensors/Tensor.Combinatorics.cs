using System;
using System.Collections.Generic;
using Kiln.Compiler.Shapes;

namespace Kiln;

// Tensors built from others by arrangement: block-diagonal matrices, Cartesian products, r-combinations, the index
// lists of a triangle, Vandermonde matrices. Each is composed of recorded ops (cat, index_select, cumprod), so gradients
// flow to the inputs.
public sealed partial class Tensor
{
    /// <summary>
    /// The block-diagonal matrix of <paramref name="tensors"/> (<c>torch.block_diag</c>): each 0-D, 1-D ([1, n]) or 2-D
    /// block placed after the previous one's rows and columns, zeros elsewhere, in their promoted dtype.
    /// </summary>
    public static Tensor BlockDiag(params Tensor[] tensors)
    {
        using var scope = Tensor.Scope();
        const string op = "block_diag";
        if (tensors.Length == 0) return scope.Keep(Empty([1, 0]));
        var blocks = new Tensor[tensors.Length];
        var dtype = ResultType(tensors);
        int columns = 0;
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = tensors[i];
            if (t.Dim > 2)
                throw new KilnException(op, $"{op}: Input tensors must have 2 or fewer dimensions. Input {i} has {t.Dim} dimensions", KilnErrorKind.Shape);
            if (t.Device != tensors[0].Device)
                throw new KilnException(op, $"{op}: input {i} is on {t.Device}, input 0 on {tensors[0].Device}", KilnErrorKind.Device);
            blocks[i] = t.Reshape(t.Dim == 2 ? t._shape : [1, t.Dim == 0 ? 1 : t._shape[0]]).To(dtype);
            columns += blocks[i]._shape[1];
        }
        var rows = new List<Tensor>();
        try
        {
            int before = 0;
            foreach (var b in blocks)
            {
                int r = b._shape[0], c = b._shape[1];
                var parts = new List<Tensor>();
                if (before > 0) parts.Add(Zeros([r, before], dtype, b.Device));
                parts.Add(b);
                if (columns - before - c > 0) parts.Add(Zeros([r, columns - before - c], dtype, b.Device));
                rows.Add(Cat(parts, 1));
                foreach (var p in parts) if (!ReferenceEquals(p, b)) p.Dispose();
                before += c;
            }
            return scope.Keep(Cat(rows, 0));
        }
        finally
        {
            foreach (var r in rows) r.Dispose();
            foreach (var b in blocks) b.Dispose();
        }
    }

    /// <summary>
    /// Every tuple of one element from each 1-D tensor, in row-major order (<c>torch.cartesian_prod</c>): [Π nᵢ, k]; one
    /// tensor gives itself.
    /// </summary>
    public static Tensor CartesianProd(params Tensor[] tensors)
    {
        const string op = "cartesian_prod";
        if (tensors.Length == 0) throw new KilnException(op, $"{op}: expects at least one tensor", KilnErrorKind.Argument);
        for (int i = 0; i < tensors.Length; i++)
            if (tensors[i].Dim != 1)
                throw new KilnException(op, $"{op}: expects one-dimensional tensors, got tensor {i} of shape {ShapeText.Format(tensors[i]._shape)}", KilnErrorKind.Shape);
        if (tensors.Length == 1) return tensors[0].To(tensors[0].DType);   // a recorded alias
        var grids = Meshgrid(tensors, "ij");
        var columns = new Tensor[grids.Length];
        try
        {
            for (int i = 0; i < grids.Length; i++) columns[i] = grids[i].Flatten();
            return Stack(columns, 1);
        }
        finally
        {
            foreach (var g in grids) g.Dispose();
            foreach (var c in columns) c?.Dispose();
        }
    }

    /// <summary>
    /// The length-<paramref name="r"/> combinations of a 1-D tensor's elements in lexicographic order of positions
    /// (<c>torch.combinations</c>, Python's itertools.combinations, or combinations_with_replacement): [count, r].
    /// </summary>
    public Tensor Combinations(int r = 2, bool withReplacement = false)
    {
        const string op = "combinations";
        if (Dim != 1) throw new KilnException(op, $"{op}: Expect a 1D vector, but got shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        if (r < 0) throw new KilnException(op, $"{op}: Expect a non-negative number, but got {r}", KilnErrorKind.Argument);
        if (r == 0) return Empty([0], DType, Device);
        int n = _shape[0];
        var picks = new List<int[]>();
        var current = new int[r];
        void Choose(int position, int from)
        {
            if (position == r) { picks.Add((int[])current.Clone()); return; }
            for (int i = from; i < n; i++)
            {
                current[position] = i;
                Choose(position + 1, withReplacement ? i : i + 1);
            }
        }
        Choose(0, 0);
        if (picks.Count == 0) return Empty([0, r], DType, Device);
        var columns = new Tensor[r];
        try
        {
            for (int k = 0; k < r; k++)
            {
                var index = new long[picks.Count];
                for (int i = 0; i < index.Length; i++) index[i] = picks[i][k];
                using var host = From(index, index.Length);
                using var onDevice = host.To(Device);
                columns[k] = IndexSelect(0, onDevice);
            }
            return Stack(columns, 1);
        }
        finally
        {
            foreach (var c in columns) c?.Dispose();
        }
    }

    /// <summary>
    /// The [2, N] row and column indices of a <paramref name="row"/> × <paramref name="col"/> matrix's lower triangle
    /// (on and below diagonal <paramref name="offset"/>), row by row (<c>torch.tril_indices</c>).
    /// </summary>
    public static Tensor TrilIndices(int row, int col, int offset = 0, DType dtype = DType.Int64, Device? device = null)
    {
        using var scope = Tensor.Scope();
        return scope.Keep(TriangleIndices("tril_indices", row, col, offset, lower: true, dtype, device));
    }

    /// <summary>
    /// The [2, N] row and column indices of a <paramref name="row"/> × <paramref name="col"/> matrix's upper triangle
    /// (on and above diagonal <paramref name="offset"/>), row by row (<c>torch.triu_indices</c>).
    /// </summary>
    public static Tensor TriuIndices(int row, int col, int offset = 0, DType dtype = DType.Int64, Device? device = null)
    {
        using var scope = Tensor.Scope();
        return scope.Keep(TriangleIndices("triu_indices", row, col, offset, lower: false, dtype, device));
    }

    static Tensor TriangleIndices(string op, int row, int col, int offset, bool lower, DType dtype, Device? device)
    {
        if (row < 0 || col < 0) throw new KilnException(op, $"{op}: row and col must be non-negative, got {row} and {col}", KilnErrorKind.Argument);
        if (dtype is not (DType.Int64 or DType.Int32)) throw new KilnException(op, $"{op}: only support int32 and int64, got {dtype}", KilnErrorKind.DType);
        var rows = new List<long>();
        var cols = new List<long>();
        for (int i = 0; i < row; i++)
            for (int j = 0; j < col; j++)
                if (lower ? j - i <= offset : j - i >= offset) { rows.Add(i); cols.Add(j); }
        var data = new long[2 * rows.Count];
        rows.CopyTo(data, 0);
        cols.CopyTo(data, rows.Count);
        using var host = From(data, 2, rows.Count);
        using var typed = host.To(dtype);
        return typed.To(device ?? Device.Cpu).Contiguous();
    }

    /// <summary>
    /// The Vandermonde matrix of a 1-D tensor (<c>torch.vander</c>): column j holds x^(N-1-j), or x^j when
    /// <paramref name="increasing"/>; <paramref name="columns"/> (N) defaults to the length of x.
    /// </summary>
    public Tensor Vander(int? columns = null, bool increasing = false)
    {
        const string op = "vander";
        if (Dim != 1) throw new KilnException(op, $"{op}: x must be a one-dimensional tensor, got shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        int n = columns ?? _shape[0];
        if (n < 0) throw new KilnException(op, $"{op}: N must be non-negative, got {n}", KilnErrorKind.Argument);
        // PyTorch's own construction: ones, then running products of x (no pow, so x = 0 has finite gradients).
        var dtype = DType.IsFloatingPoint() ? DType : DType.Int64;
        using var x = To(dtype);
        using var column = x.Unsqueeze(1);
        Tensor powers;
        if (n == 0) powers = Empty([_shape[0], 0], dtype, Device);
        else
        {
            using var ones = OnesLike(column);
            if (n == 1) powers = ones.To(dtype);
            else
            {
                using var repeated = column.Expand(_shape[0], n - 1);
                using var products = repeated.CumProd(1);
                powers = Cat([ones, products], 1);
            }
        }
        if (increasing) return powers;
        using (powers) return powers.Flip(1);
    }
}
