using System;
using System.Collections.Generic;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>Same data, new shape; needs compatible strides (<c>view</c>). One size may be -1.</summary>
    public Tensor View(params int[] shape)
    {
        var target = ShapeRules.Reshape("view", _shape, shape);
        var strides = ViewStrides(target);
        if (strides == null)
            throw new KilnException("view", $"view: size {ShapeText.Format(target)} is not compatible with input tensor's size {ShapeText.Format(_shape)} and stride [{string.Join(", ", _strides)}] (at least one dimension spans across two contiguous subspaces). Use .Reshape(...) instead.", KilnErrorKind.Shape);
        return Record("view", AsStrided(target, strides, _offset), null, this);
    }

    /// <summary>A view when the strides allow it, else a contiguous copy (<c>reshape</c>).</summary>
    public Tensor Reshape(params int[] shape)
    {
        var target = ShapeRules.Reshape("reshape", _shape, shape);
        var strides = ViewStrides(target);
        if (strides != null) return Record("reshape", AsStrided(target, strides, _offset), null, this);
        using var c = Kernels.CopyKernel.Convert(this, DType);
        return Record("reshape", c.AsStrided(target, ContiguousStrides(target), c._offset), null, this);
    }

    /// <summary>PyTorch's stride computation for a view: null when the new shape splits a non-contiguous block.</summary>
    long[]? ViewStrides(int[] target)
    {
        var newStrides = new long[target.Length];
        if (Numel == 0 || _shape.Length == 0) return ContiguousStrides(target);
        int viewD = target.Length - 1;
        long chunkBase = _strides[_shape.Length - 1];
        long tensorNumel = 1, viewNumel = 1;
        for (int d = _shape.Length - 1; d >= 0; d--)
        {
            tensorNumel *= _shape[d];
            if (d == 0 || (_shape[d - 1] != 1 && _strides[d - 1] != tensorNumel * chunkBase))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || target[viewD] == 1))
                {
                    newStrides[viewD] = viewNumel * chunkBase;
                    viewNumel *= target[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0)
                {
                    chunkBase = _strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? newStrides : null;
    }

    /// <summary>Reorders dims (<c>permute</c>).</summary>
    public Tensor Permute(params int[] dims)
    {
        var shape = ShapeRules.Permute(_shape, dims);
        var strides = new long[dims.Length];
        for (int i = 0; i < dims.Length; i++) strides[i] = _strides[ShapeRules.NormalizeDim("permute", dims[i], _shape.Length)];
        return Record("permute", AsStrided(shape, strides, _offset), new PermuteArgs((int[])dims.Clone()), this);
    }

    /// <summary>Swaps two dims (<c>transpose</c>).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        int a = ShapeRules.NormalizeDim("transpose", dim0, _shape.Length), b = ShapeRules.NormalizeDim("transpose", dim1, _shape.Length);
        var shape = (int[])_shape.Clone();
        var strides = (long[])_strides.Clone();
        if (_shape.Length > 0)
        {
            (shape[a], shape[b]) = (shape[b], shape[a]);
            (strides[a], strides[b]) = (strides[b], strides[a]);
        }
        return Record("transpose", AsStrided(shape, strides, _offset), new TransposeArgs(a, b), this);
    }

    /// <summary>Transpose of a matrix (≤ 2 dims), like <c>tensor.T</c> for 2-D.</summary>
    public Tensor T
    {
        get
        {
            if (_shape.Length > 2)
                throw new KilnException("t", $"t: expects a tensor with <= 2 dimensions, but got shape {ShapeText.Format(_shape)}; use Transpose or Permute", KilnErrorKind.Shape);
            return _shape.Length < 2 ? Record("alias", AsStrided(_shape, _strides, _offset), null, this) : Transpose(0, 1);
        }
    }

    /// <summary>Removes all size-1 dims.</summary>
    public Tensor Squeeze()
    {
        var s = new List<int>(); var st = new List<long>();
        for (int i = 0; i < _shape.Length; i++) if (_shape[i] != 1) { s.Add(_shape[i]); st.Add(_strides[i]); }
        return Record("squeeze", AsStrided(s.ToArray(), st.ToArray(), _offset), null, this);
    }

    /// <summary>Removes dim <paramref name="dim"/> if its size is 1.</summary>
    public Tensor Squeeze(int dim)
    {
        if (_shape.Length == 0) return Record("alias", AsStrided(_shape, _strides, _offset), null, this);
        int d = ShapeRules.NormalizeDim("squeeze", dim, _shape.Length);
        if (_shape[d] != 1) return Record("alias", AsStrided(_shape, _strides, _offset), null, this);
        return Record("squeeze", AsStrided(Remove(_shape, d), Remove(_strides, d), _offset), null, this);
    }

    /// <summary>Inserts a size-1 dim at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = ShapeRules.NormalizeDim("unsqueeze", dim, _shape.Length + 1);
        var s = new List<int>(_shape); var st = new List<long>(_strides);
        long stride = d < _shape.Length ? _strides[d] * _shape[d] : 1;
        s.Insert(d, 1); st.Insert(d, stride);
        return Record("unsqueeze", AsStrided(s.ToArray(), st.ToArray(), _offset), null, this);
    }

    /// <summary>Broadcasts to a larger shape without copying (<c>expand</c>); -1 keeps a size.</summary>
    public Tensor Expand(params int[] sizes)
    {
        var shape = ShapeRules.Expand(_shape, sizes);
        var strides = new long[shape.Length];
        int lead = shape.Length - _shape.Length;
        for (int i = lead; i < shape.Length; i++)
            strides[i] = _shape[i - lead] == 1 && shape[i] != 1 ? 0 : _strides[i - lead];
        return Record("expand", AsStrided(shape, strides, _offset), null, this);
    }

    /// <summary>Expands to another tensor's shape.</summary>
    public Tensor ExpandAs(Tensor other) => Expand(other._shape);

    /// <summary>Merges dims start..end into one (<c>flatten</c>).</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1) => Reshape(ShapeRules.Flatten(_shape, startDim, endDim));

    /// <summary>Splits dim <paramref name="dim"/> into <paramref name="sizes"/> (<c>unflatten</c>).</summary>
    public Tensor Unflatten(int dim, params int[] sizes)
    {
        int d = ShapeRules.NormalizeDim("unflatten", dim, _shape.Length);
        var inner = ShapeRules.Reshape("unflatten", new[] { _shape[d] }, sizes);
        var shape = new List<int>();
        for (int i = 0; i < d; i++) shape.Add(_shape[i]);
        shape.AddRange(inner);
        for (int i = d + 1; i < _shape.Length; i++) shape.Add(_shape[i]);
        return View(shape.ToArray());
    }

    /// <summary>The slice [start, start+length) of dim <paramref name="dim"/>, as a view (<c>narrow</c>).</summary>
    public Tensor Narrow(int dim, long start, int length)
    {
        int d = ShapeRules.NormalizeDim("narrow", dim, _shape.Length);
        start = ShapeRules.Narrow(_shape, d, start, length);
        var shape = (int[])_shape.Clone();
        shape[d] = length;
        return Record("narrow", AsStrided(shape, (long[])_strides.Clone(), _offset + start * _strides[d]), new NarrowArgs(d, start, length), this);
    }

    /// <summary>Slice with a step along one dim (Python's <c>start:stop:step</c>; bounds clamp like Python).</summary>
    public Tensor Slice(int dim, long? start, long? stop, long step = 1)
    {
        int d = ShapeRules.NormalizeDim("slice", dim, _shape.Length);
        if (step <= 0) throw new KilnException("slice", $"slice: step must be positive, got {step}");
        long size = _shape[d];
        long s = start ?? 0, e = stop ?? size;
        if (s < 0) s += size;
        if (e < 0) e += size;
        s = Math.Clamp(s, 0, size);
        e = Math.Clamp(e, s, size);
        var shape = (int[])_shape.Clone();
        var strides = (long[])_strides.Clone();
        shape[d] = (int)(e <= s ? 0 : (e - s - 1) / step + 1); // not (e - s + step - 1) / step: a huge step overflows it
        strides[d] = shape[d] <= 1 ? strides[d] : checked(strides[d] * step); // one element: the step is never taken
        return Record("slice", AsStrided(shape, strides, _offset + s * _strides[d]), new SliceArgs(d, s, (int)step), this);
    }

    /// <summary>Index <paramref name="index"/> of dim <paramref name="dim"/>, removing that dim (<c>select</c>).</summary>
    public Tensor Select(int dim, long index)
    {
        if (_shape.Length == 0) throw new KilnException("select", "select: cannot be applied to a 0-dim tensor", KilnErrorKind.Shape);
        int d = ShapeRules.NormalizeDim("select", dim, _shape.Length);
        int i = ShapeRules.NormalizeIndex("select", index, _shape[d], d);
        return Record("select", AsStrided(Remove(_shape, d), Remove(_strides, d), _offset + i * _strides[d]), new SelectArgs(d, i), this);
    }

    /// <summary>
    /// NumPy-style indexing with C# indices and ranges: <c>x[0]</c>, <c>x[^1]</c>, <c>x[.., 1..3]</c>,
    /// <c>x[TensorIndex.Ellipsis, TensorIndex.NewAxis]</c>, <c>x[TensorIndex.Slice(0, 10, 2)]</c> give views;
    /// a tensor index gives a copy: <c>x[mask]</c> (a bool mask over the next dims, the selected elements in order) or
    /// <c>x[indices]</c> (int64 indices into the next dim, their shape taking its place). Assigning writes into this
    /// tensor: <c>x[.., 0] = value</c>, <c>x[mask] = 0</c>, <c>x[indices] = rows</c>.
    /// </summary>
    [System.Runtime.CompilerServices.IndexerName("Index")]
    public Tensor this[params TensorIndex[] indices]
    {
        get
        {
            int consumed = 0;
            foreach (var ix in indices)
                if (ix.Kind is TensorIndex.IndexKind.Int or TensorIndex.IndexKind.Slice) consumed++;
                else if (ix.Kind == TensorIndex.IndexKind.Tensor) consumed += ix.Values!.DType == DType.Bool ? Math.Max(1, ix.Values.Dim) : 1;
            if (consumed > _shape.Length)
                throw new KilnException("index", $"index: too many indices for tensor of dimension {_shape.Length} (got {consumed})", KilnErrorKind.Index);
            Tensor cur = this;
            int dim = 0;
            foreach (var ix in indices)
            {
                Tensor next;
                switch (ix.Kind)
                {
                    case TensorIndex.IndexKind.Int:
                        next = cur.Select(dim, ix.Start);
                        break;
                    case TensorIndex.IndexKind.Slice:
                        next = cur.SliceRange(dim, ix);
                        dim++;
                        break;
                    case TensorIndex.IndexKind.NewAxis:
                        next = cur.Unsqueeze(dim);
                        dim++;
                        break;
                    case TensorIndex.IndexKind.Tensor:
                        next = cur.AdvancedIndex(dim, ix.Values!, out int added);
                        dim += added;
                        break;
                    default: // Ellipsis: skip the dims no other index consumes
                        dim += _shape.Length - consumed;
                        continue;
                }
                if (!ReferenceEquals(cur, this)) cur.Dispose();
                cur = next;
            }
            return ReferenceEquals(cur, this) ? Record("alias", AsStrided(_shape, _strides, _offset), null, this) : cur;
        }
        set => IndexAssign(indices, value);
    }

    /// <summary>
    /// One tensor index at <paramref name="dim"/>: a bool mask over the dims from there (they become one dim of the
    /// selected elements), or integer indices into that dim (their shape takes its place). Gradients flow (index_select).
    /// </summary>
    Tensor AdvancedIndex(int dim, Tensor index, out int dimsAdded)
    {
        const string op = "index";
        if (index.DType == DType.Bool)
        {
            int k = Math.Max(1, index.Dim);
            for (int i = 0; i < index.Dim; i++)
                if (dim + i >= Dim || index._shape[i] != _shape[dim + i])
                    throw new KilnException(op, $"{op}: the mask of shape {ShapeText.Format(index._shape)} does not match the indexed tensor's shape {ShapeText.Format(_shape)} at dim {dim + i}", KilnErrorKind.Index);
            using var flat = index.Dim == 0 ? Unsqueeze(dim) : Flatten(dim, dim + k - 1);
            using var positions = index.Reshape(-1).Nonzero();
            using var at = positions.Reshape(-1);
            dimsAdded = 1;
            return flat.IndexSelect(dim, at);
        }
        if (index.DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: tensors used as indices must be long, int or bool tensors, got {index.DType}", KilnErrorKind.DType);
        if (dim >= Dim) throw new KilnException(op, $"{op}: too many indices for tensor of dimension {Dim}", KilnErrorKind.Index);
        using var flatIndex = index.Reshape(-1);
        using var picked = IndexSelect(dim, flatIndex);
        var shape = new List<int>();
        for (int i = 0; i < dim; i++) shape.Add(_shape[i]);
        shape.AddRange(index._shape);
        for (int i = dim + 1; i < Dim; i++) shape.Add(_shape[i]);
        dimsAdded = index.Dim;
        return picked.Reshape(shape.ToArray());
    }

    /// <summary>
    /// <c>x[indices] = value</c>: integers and slices write through the view they select; a bool mask or integer indices
    /// (the only tensor index) write the selected elements (<c>masked_fill_</c> / <c>index_put_</c>).
    /// </summary>
    void IndexAssign(TensorIndex[] indices, Tensor value)
    {
        const string op = "index_put_";
        if (GradMode.Enabled && RequiresGrad)
            throw new KilnException(op, $"{op}: indexed assignment into a tensor that requires grad is not recorded; use Tensor.Where or build a new tensor", KilnErrorKind.State);
        int tensorAt = -1;
        for (int i = 0; i < indices.Length; i++)
            if (indices[i].Kind == TensorIndex.IndexKind.Tensor)
            {
                if (tensorAt >= 0) throw new KilnException(op, $"{op}: assignment takes at most one tensor index", KilnErrorKind.Index);
                tensorAt = i;
            }
        if (tensorAt < 0)
        {
            using var view = this[indices];
            view.Copy_(value);
            return;
        }
        if (indices.Length != 1)
            throw new KilnException(op, $"{op}: a tensor index in an assignment must be the only index (x[mask] = v, x[indices] = v)", KilnErrorKind.Index);
        var index = indices[0].Values!;
        if (index.DType == DType.Bool)
        {
            var shape = ShapeRules.Broadcast(op, _shape, index._shape);
            if (!ShapeRules.SameShape(shape, _shape))
                throw new KilnException(op, $"{op}: the mask of shape {ShapeText.Format(index._shape)} does not fit the tensor's shape {ShapeText.Format(_shape)}", KilnErrorKind.Index);
            if (value.Numel == 1)
            {
                using var v = value.To(DType).Reshape(Array.Empty<int>());
                using var filled = Where(index, v, this);
                Copy_(filled);
                return;
            }
            using var hits = index.Expand(_shape).Reshape(-1).Nonzero();
            using var flatPositions = hits.Reshape(-1);
            ScatterInto(flatPositions, value, op);
            return;
        }
        using var rows = index.Reshape(-1);
        using var wrapped = WrapIndices(rows, Dim == 0 ? 1 : _shape[0], op);
        // Row indices become element positions: each row's block of the flattened tensor.
        long block = Dim == 0 ? 1 : Numel / Math.Max(1, _shape[0]);
        using var scaled = wrapped.Mul(Scalar(block));
        using var start = scaled.Unsqueeze(1);
        using var withinHost = Arange(0, block);
        using var within = withinHost.To(Device).Unsqueeze(0);
        using var sum = start.Add(within);
        using var positions = sum.Reshape(-1);
        // The value broadcasts to the selected rows: [count, *rest] (one row, or a number, serves them all).
        var rowsShape = new int[Math.Max(1, Dim)];
        rowsShape[0] = (int)rows.Numel;
        for (int i = 1; i < Dim; i++) rowsShape[i] = _shape[i];
        using var typed = value.To(DType);
        using var broadcast = typed.Expand(ShapeRules.Broadcast(op, rowsShape, typed._shape));
        ScatterInto(positions, broadcast, op);
    }

    /// <summary>Negative indices wrapped; any outside [-size, size) refused.</summary>
    static Tensor WrapIndices(Tensor index, int size, string op)
    {
        using var i64 = index.To(DType.Int64);
        using var low = i64.Lt(-size);
        using var high = i64.Ge(size);
        using var bad = low.BitwiseOr(high);
        using var any = bad.Any();
        if (any.Item<bool>()) throw new KilnException(op, $"{op}: an index is out of bounds for dimension 0 with size {size}", KilnErrorKind.Index);
        using var negative = i64.Lt(0);
        using var shifted = i64.Add(Scalar((long)size));
        return Where(negative, shifted, i64);
    }

    /// <summary>Writes <paramref name="value"/> (broadcast to the positions) at flat element <paramref name="positions"/>.</summary>
    void ScatterInto(Tensor positions, Tensor value, string op)
    {
        int count = (int)positions.Numel;
        using var v = value.To(DType);
        using var expanded = value.Numel == count ? v.Reshape(count) : v.Expand(ShapeRules.Broadcast(op, [count], v._shape)).Reshape(count);
        using var flat = Reshape(-1);
        using var written = flat.Scatter(0, positions, expanded);
        using var back = written.Reshape(_shape);
        Copy_(back);
    }

    Tensor SliceRange(int dim, TensorIndex ix)
    {
        int size = _shape[dim];
        long start = ix.StartFromEnd ? size - ix.Start : ix.Start;
        long? stop = ix.Stop is { } st ? (ix.StopFromEnd ? size - st : st) : null;
        return Slice(dim, start, stop, ix.Step);
    }

    static int[] Remove(int[] a, int at)
    {
        var r = new int[a.Length - 1];
        for (int i = 0, j = 0; i < a.Length; i++) if (i != at) r[j++] = a[i];
        return r;
    }

    static long[] Remove(long[] a, int at)
    {
        var r = new long[a.Length - 1];
        for (int i = 0, j = 0; i < a.Length; i++) if (i != at) r[j++] = a[i];
        return r;
    }

    /// <summary>This tensor if already contiguous (a new reference), else a contiguous copy.</summary>
    public Tensor Contiguous() => IsContiguous ? Record("contiguous", AsStrided(_shape, _strides, _offset), null, this) : Clone();

    /// <summary>A new tensor object over the same data, never recorded (for kernels' internal use).</summary>
    internal Tensor Alias() => AsStrided(_shape, _strides, _offset);

    /// <summary>This data as <paramref name="dtype"/> for kernels: an unrecorded alias when nothing changes, else a converted copy.</summary>
    internal Tensor ToInternal(DType dtype) => dtype == DType ? Alias() : Kernels.CopyKernel.Convert(this, dtype);

    /// <summary>A contiguous copy with its own storage (<c>clone</c>).</summary>
    public Tensor Clone() => Record("clone", Kernels.CopyKernel.Convert(this, DType), null, this);

    /// <summary>Converts to <paramref name="dtype"/>; the same data (a new reference) when it already is (<c>to(dtype)</c>).</summary>
    public Tensor To(DType dtype) => dtype == DType
        ? Record("alias", AsStrided(_shape, _strides, _offset), null, this)
        : Record("to", Kernels.CopyKernel.Convert(this, dtype), null, this);

    /// <summary>Reverses the order of elements along <paramref name="dim"/> (<c>flip</c>).</summary>
    public Tensor Flip(int dim)
    {
        int d = ShapeRules.NormalizeDim("flip", dim, _shape.Length);
        if (_shape.Length == 0) return Clone(); // a scalar has nothing to reverse; PyTorch accepts dim 0 and -1 on it
        using var reversedHost = Arange(_shape[d] - 1, -1, -1);
        using var reversed = reversedHost.To(Device);
        return IndexSelect(d, reversed);
    }

    /// <summary>Reverses the order of elements along each of <paramref name="dims"/> (<c>torch.flip(x, dims)</c>).</summary>
    public Tensor Flip(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        var seen = new bool[Math.Max(_shape.Length, 1)];
        foreach (int dim in dims)
        {
            int d = ShapeRules.NormalizeDim("flip", dim, _shape.Length);
            if (seen[d]) throw new KilnException("flip", $"flip: dim {d} appears multiple times in the list of dims", KilnErrorKind.Argument);
            seen[d] = true;
        }
        if (dims.Length == 0) return Clone();
        var r = Flip(dims[0]);
        for (int i = 1; i < dims.Length; i++)
        {
            var next = r.Flip(dims[i]);
            if (!r.RequiresGrad) r.Dispose(); // an intermediate no graph holds
            r = next;
        }
        return r;
    }

    /// <summary>
    /// Rotates by 90° <paramref name="k"/> times in the plane of <paramref name="dim0"/> and <paramref name="dim1"/>, from
    /// the first toward the second (<c>torch.rot90</c>).
    /// </summary>
    public Tensor Rot90(int k = 1, int dim0 = 0, int dim1 = 1)
    {
        const string op = "rot90";
        if (_shape.Length < 2) throw new KilnException(op, $"{op}: expected total dims >= 2, but got total dims = {_shape.Length}", KilnErrorKind.Shape);
        int a = ShapeRules.NormalizeDim(op, dim0, _shape.Length), b = ShapeRules.NormalizeDim(op, dim1, _shape.Length);
        if (a == b) throw new KilnException(op, $"{op}: expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}", KilnErrorKind.Argument);
        switch (((k % 4) + 4) % 4)
        {
            case 1: { using var f = Flip(b); return f.Transpose(a, b); }
            case 2: return Flip(a, b);
            case 3: { using var f = Flip(a); return f.Transpose(a, b); }
            default: return Clone();
        }
    }

    /// <summary>
    /// This tensor on <paramref name="device"/> (<c>tensor.to(device)</c>): itself, as a new view, when it is there already,
    /// else a contiguous copy there (recorded: gradients flow back to the source device).
    /// </summary>
    public Tensor To(Device device)
    {
        if (device == Device) return Record("alias", AsStrided(_shape, _strides, _offset), null, this);
        if (device.Type == DeviceType.Cuda && !Kiln.Cuda.Emulate) Kiln.Cuda.Require("to", device);
        var r = Allocate((int[])_shape.Clone(), DType, false, device);
        Kernels.CopyKernel.Copy(r, this);
        return Record("to", r, null, this); // its derivative casts back like the input: dtype and device
    }

    /// <summary>This tensor on CUDA device <paramref name="index"/> (<c>tensor.cuda()</c>).</summary>
    public Tensor Cuda(int index = 0) => To(Device.Cuda(index));

    /// <summary>This tensor in host memory (<c>tensor.cpu()</c>): itself, as a new view, when it is there already.</summary>
    public Tensor Cpu() => To(Device.Cpu);
}
