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
        using var spread = SpreadIndex(index, d, source._shape);
        if (alpha == 1) return ScatterAdd(d, spread, source);
        using var scaled = source.Mul(alpha);
        return ScatterAdd(d, spread, scaled);
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
