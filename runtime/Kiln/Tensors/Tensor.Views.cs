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
            throw new KilnException("view", $"view: size {ShapeText.Format(target)} is not compatible with input tensor's size {ShapeText.Format(_shape)} and stride [{string.Join(", ", _strides)}] (at least one dimension spans across two contiguous subspaces). Use .Reshape(...) instead.");
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
        return Record("permute", AsStrided(shape, strides, _offset), new OpArgs { Sizes = (int[])dims.Clone() }, this);
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
        return Record("transpose", AsStrided(shape, strides, _offset), new OpArgs { Dim = a, Dim1 = b }, this);
    }

    /// <summary>Transpose of a matrix (≤ 2 dims), like <c>tensor.T</c> for 2-D.</summary>
    public Tensor T
    {
        get
        {
            if (_shape.Length > 2)
                throw new KilnException("t", $"t: expects a tensor with <= 2 dimensions, but got shape {ShapeText.Format(_shape)}; use Transpose or Permute");
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
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (_shape.Length == 0) return Reshape(1);
        int s = ShapeRules.NormalizeDim("flatten", startDim, _shape.Length), e = ShapeRules.NormalizeDim("flatten", endDim, _shape.Length);
        if (s > e) throw new KilnException("flatten", $"flatten: start_dim {startDim} cannot come after end_dim {endDim}");
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(_shape[i]);
        int m = 1;
        for (int i = s; i <= e; i++) m *= _shape[i];
        shape.Add(m);
        for (int i = e + 1; i < _shape.Length; i++) shape.Add(_shape[i]);
        return Reshape(shape.ToArray());
    }

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
        return Record("narrow", AsStrided(shape, (long[])_strides.Clone(), _offset + start * _strides[d]), new OpArgs { Dim = d, Start = (int)start, Length = length }, this);
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
        return Record("slice", AsStrided(shape, strides, _offset + s * _strides[d]), new OpArgs { Dim = d, Start = (int)s, Length = (int)step }, this);
    }

    /// <summary>Index <paramref name="index"/> of dim <paramref name="dim"/>, removing that dim (<c>select</c>).</summary>
    public Tensor Select(int dim, long index)
    {
        if (_shape.Length == 0) throw new KilnException("select", "select: cannot be applied to a 0-dim tensor");
        int d = ShapeRules.NormalizeDim("select", dim, _shape.Length);
        int i = ShapeRules.NormalizeIndex("select", index, _shape[d], d);
        return Record("select", AsStrided(Remove(_shape, d), Remove(_strides, d), _offset + i * _strides[d]), new OpArgs { Dim = d, Start = i }, this);
    }

    /// <summary>
    /// NumPy-style indexing with C# indices and ranges: <c>x[0]</c>, <c>x[^1]</c>, <c>x[.., 1..3]</c>,
    /// <c>x[TensorIndex.Ellipsis, TensorIndex.NewAxis]</c>, <c>x[TensorIndex.Slice(0, 10, 2)]</c>. Always a view.
    /// </summary>
    [System.Runtime.CompilerServices.IndexerName("Index")]
    public Tensor this[params TensorIndex[] indices]
    {
        get
        {
            int consumed = 0;
            foreach (var ix in indices) if (ix.Kind is TensorIndex.IndexKind.Int or TensorIndex.IndexKind.Slice) consumed++;
            if (consumed > _shape.Length)
                throw new KilnException("index", $"index: too many indices for tensor of dimension {_shape.Length} (got {consumed})");
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
                    default: // Ellipsis: skip the dims no other index consumes
                        dim += _shape.Length - consumed;
                        continue;
                }
                if (!ReferenceEquals(cur, this)) cur.Dispose();
                cur = next;
            }
            return ReferenceEquals(cur, this) ? Record("alias", AsStrided(_shape, _strides, _offset), null, this) : cur;
        }
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
        using var reversedHost = Arange(_shape[d] - 1, -1, -1);
        using var reversed = reversedHost.To(Device);
        return IndexSelect(d, reversed);
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
