using System;
using Kiln.Compiler.Shapes;
using Kiln.Gpu;

namespace Kiln;

// Out-of-place updates along one dim by a 1-D index (index_add / index_copy / index_fill) and repeat_interleave. Each is
// composed of recorded ops (scatter, scatter_add, index_select, expand), so its gradient and device support come from
// theirs.
public sealed partial class Tensor
{
    /// <summary>
    /// A copy with <paramref name="alpha"/> · <paramref name="source"/>'s slices added at the positions <paramref name="index"/>
    /// names along <paramref name="dim"/> (<c>torch.index_add</c>); repeated indices accumulate. <paramref name="source"/> has
    /// this tensor's shape except that its size along the dim is the index's length.
    /// </summary>
    public Tensor IndexAdd(int dim, Tensor index, Tensor source, double alpha = 1)
    {
        const string op = "index_add";
        int d = CheckIndexUpdate(op, dim, index, source);
        if (!IsCuda && !source.IsCuda && !index.IsCuda && DType == DType.Float32 && source.DType == DType.Float32 && Dim > 0)
            return IndexAddOnHost(op, d, index, source, alpha);
        using var spread = SpreadIndex(index, d, source._shape);
        if (alpha == 1) return ScatterAdd(d, spread, source);
        using var scaled = source.Mul(alpha);
        return ScatterAdd(d, spread, scaled);
    }

    /// <summary>
    /// index_add of host float32 tensors by <see cref="Kernels.IndexAddRows"/> (slices added in place of a copy, no int64
    /// index the size of source), one node: self's gradient passes through, source's is the gradient's slices at the index.
    /// </summary>
    unsafe Tensor IndexAddOnHost(string op, int d, Tensor index, Tensor source, double alpha)
    {
        int size = _shape[d];
        using var wide = index.To(DType.Int64);
        var rows = wide.Reshape(-1).ToArray<long>();
        for (int r = 0; r < rows.Length; r++)
        {
            if (rows[r] < 0 || rows[r] >= size)   // no wrapping of negative indices, as PyTorch's index_add
                throw new KilnException(op, $"{op}: index {rows[r]} is out of bounds for dimension {d} with size {size}", KilnErrorKind.Index);
        }
        long outer = 1, inner = 1;
        for (int i = 0; i < d; i++) outer *= _shape[i];
        for (int i = d + 1; i < Dim; i++) inner *= _shape[i];
        var self = this;
        Tensor Forward()
        {
            var result = self.Clone();
            using var from = source.Contiguous();
            fixed (long* at = rows) Kernels.IndexAddRows.Run(result.Ptr<float>(), from.Ptr<float>(), at, outer, size, rows.Length, inner, (float)alpha);
            return result;
        }
        if (!Autograd.IsGradEnabled || !RequiresGrad && !source.RequiresGrad) return Forward();
        return Autograd.Function(op, [this, source], Forward, grad =>
        {
            var gradSelf = RequiresGrad ? grad.Clone() : null;
            Tensor? gradSource = null;
            if (source.RequiresGrad)
            {
                using var positions = From(rows, rows.Length);
                using var onDevice = positions.To(grad.Device);
                using var picked = grad.IndexSelect(d, onDevice);
                gradSource = alpha == 1 ? picked.Clone() : picked.Mul(alpha);
            }
            return [gradSelf, gradSource];
        });
    }

    /// <summary>
    /// A copy with <paramref name="source"/>'s slices written at the positions <paramref name="index"/> names along
    /// <paramref name="dim"/> (<c>torch.index_copy</c>).
    /// </summary>
    public Tensor IndexCopy(int dim, Tensor index, Tensor source)
    {
        int d = CheckIndexUpdate("index_copy", dim, index, source);
        using var spread = SpreadIndex(index, d, source._shape);
        return Scatter(d, spread, source);
    }

    /// <summary>A copy with the slices <paramref name="index"/> names along <paramref name="dim"/> set to <paramref name="value"/> (<c>torch.index_fill</c>).</summary>
    public Tensor IndexFill(int dim, Tensor index, double value)
    {
        const string op = "index_fill";
        int d = CheckIndexVector(op, dim, index);
        var shape = (int[])_shape.Clone();
        if (shape.Length > 0) shape[d] = (int)index.Numel;
        using var spread = SpreadIndex(index, d, shape);
        return Scatter(d, spread, value);
    }

    /// <summary>
    /// Each element repeated <paramref name="repeats"/> times in place along <paramref name="dim"/>; without a dim the
    /// tensor is flattened first (<c>torch.repeat_interleave</c>: [a, b] → [a, a, b, b]).
    /// </summary>
    public Tensor RepeatInterleave(int repeats, int? dim = null)
    {
        const string op = "repeat_interleave";
        if (repeats < 0) throw new KilnException(op, $"{op}: repeats can not be negative, got {repeats}");
        if (dim is null)
        {
            using var flat = Reshape(-1);
            return flat.RepeatInterleave(repeats, 0);
        }
        if (Dim == 0) return Reshape(-1).RepeatInterleave(repeats, ShapeRules.NormalizeDim(op, dim.Value, 1));
        int d = ShapeRules.NormalizeDim(op, dim.Value, Dim);
        // [.., n, ..] → [.., n, 1, ..] broadcast to [.., n, repeats, ..] → [.., n·repeats, ..]; expand's gradient sums back.
        using var lifted = Unsqueeze(d + 1);
        var wide = (int[])lifted._shape.Clone();
        wide[d + 1] = repeats;
        using var spread = lifted.Expand(wide);
        return spread.Flatten(d, d + 1);
    }

    /// <summary>
    /// Element i repeated <paramref name="repeats"/>[i] times along <paramref name="dim"/> (<c>torch.repeat_interleave</c>
    /// with a tensor of counts: one per element along the dim, or one for all). Reads the counts on the host.
    /// </summary>
    public Tensor RepeatInterleave(Tensor repeats, int? dim = null)
    {
        const string op = "repeat_interleave";
        if (dim is null)
        {
            using var flat = Reshape(-1);
            return flat.RepeatInterleave(repeats, 0);
        }
        if (repeats.DType.IsFloatingPoint() || repeats.DType == DType.Bool)
            throw new KilnException(op, $"{op}: repeats must be an integer tensor, got {repeats.DType}", KilnErrorKind.DType);
        if (repeats.Dim > 1) throw new KilnException(op, $"{op}: repeats must be 0-dim or 1-dim tensor, got shape {ShapeText.Format(repeats._shape)}", KilnErrorKind.Shape);
        if (Dim == 0) return Reshape(-1).RepeatInterleave(repeats, ShapeRules.NormalizeDim(op, dim.Value, 1));
        int d = ShapeRules.NormalizeDim(op, dim.Value, Dim);
        using var counts64 = repeats.To(DType.Int64);
        using var onHost = counts64.Cpu();
        var counts = onHost.ToArray<long>();
        if (counts.Length == 1 && _shape[d] != 1) return RepeatInterleave(checked((int)counts[0]), d);
        if (counts.Length != _shape[d])
            throw new KilnException(op, $"{op}: repeats must have the same size as input along dim {d}: {counts.Length} repeats for shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        long total = 0;
        foreach (long c in counts)
        {
            if (c < 0) throw new KilnException(op, $"{op}: repeats can not be negative, got {c}");
            total += c;
        }
        var picks = new long[total];
        for (long i = 0, at = 0; i < counts.Length; i++)
            for (long k = 0; k < counts[i]; k++) picks[at++] = i;
        using var pickIndex = From(picks, picks.Length);
        using var onDevice = pickIndex.To(Device);
        return IndexSelect(d, onDevice);
    }

    /// <summary>Checks the dim and a 1-D (or 0-D) integer index whose values lie in [0, size) along it; returns the dim.</summary>
    int CheckIndexVector(string op, int dim, Tensor index)
    {
        RequireIndexType(op, index);
        if (index.Dim > 1) throw new KilnException(op, $"{op}: index must be 0-D or 1-D, got shape {ShapeText.Format(index._shape)}", KilnErrorKind.Index);
        int d = ShapeRules.NormalizeDim(op, dim, Math.Max(Dim, 1));
        CheckSameDevice(op, this, index);
        // PyTorch's index_add/index_copy/index_fill do not wrap negative indices.
        GpuOps.CheckBounds(op, index, Dim == 0 ? 1 : _shape[d], d, allowNegative: false);
        return d;
    }

    int CheckIndexUpdate(string op, int dim, Tensor index, Tensor source)
    {
        int d = CheckIndexVector(op, dim, index);
        if (source.DType != DType)
            throw new KilnException(op, $"{op}: self ({DType}) and source ({source.DType}) must have the same scalar type", KilnErrorKind.DType);
        CheckSameDevice(op, this, source);
        bool fits = Math.Max(source.Dim, 1) == Math.Max(Dim, 1) && (Dim == 0 ? source.Numel == index.Numel : source._shape[d] == index.Numel);
        for (int i = 0; fits && i < Dim; i++) fits = i == d || source._shape[i] == _shape[i];
        if (!fits)
            throw new KilnException(op, $"{op}: source {ShapeText.Format(source._shape)} must match self {ShapeText.Format(_shape)} except at dim {d}, where its size must be the index length {index.Numel}", KilnErrorKind.Shape);
        return d;
    }

    /// <summary>The 1-D index laid along <paramref name="dim"/> and broadcast over <paramref name="shape"/> (for scatter).</summary>
    static Tensor SpreadIndex(Tensor index, int dim, int[] shape)
    {
        if (shape.Length == 0) return index.Reshape([]).To(DType.Int64);
        var view = new int[shape.Length];
        for (int i = 0; i < view.Length; i++) view[i] = i == dim ? -1 : 1;
        using var wide = index.To(DType.Int64);
        using var laid = wide.Reshape(view);
        using var spread = laid.Expand(shape);
        return spread.Contiguous();
    }
}
