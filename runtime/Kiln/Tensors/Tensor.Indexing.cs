using System;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    static void RequireIndexType(string op, Tensor index)
    {
        if (index.DType != DType.Int64 && index.DType != DType.Int32)
            throw new KilnException(op, $"{op}: expected an index tensor of dtype int64 or int32, got {index.DType}", KilnErrorKind.DType);
    }

    /// <summary>Rows (slices) of <paramref name="dim"/> picked by a 1-D index (<c>index_select</c>).</summary>
    public Tensor IndexSelect(int dim, Tensor index)
    {
        const string op = "index_select";
        RequireIndexType(op, index);
        if (index.Dim > 1) throw new KilnException(op, $"{op}: index must be 0-D or 1-D, got shape {ShapeText.Format(index._shape)}", KilnErrorKind.Index);
        int d = ShapeRules.NormalizeDim(op, dim, _shape.Length);
        using var idx = index.ToInternal(DType.Int64).Contiguous();
        int count = (int)idx.Numel;
        var shape = (int[])_shape.Clone();
        if (shape.Length > 0) shape[d] = count;
        using var src = Contiguous();
        var result = Allocate(shape, DType, false, Device);
        if (_shape.Length == 0)
        {
            CopyKernel.Copy(result, src);
            return Record("index_select", result, new DimArgs(d), this, index);
        }
        if (IsCuda)
        {
            CheckSameDevice(op, this, index);
            Gpu.GpuOps.CheckBounds(op, idx, _shape[d], d);
            var indexStrides = new long[shape.Length];
            indexStrides[d] = 1;
            Gpu.GpuOps.Gather(result, src, idx, indexStrides, d);
            return Record("index_select", result, new DimArgs(d), this, index);
        }
        long outer = 1, inner = 1;
        for (int i = 0; i < d; i++) outer *= _shape[i];
        for (int i = d + 1; i < _shape.Length; i++) inner *= _shape[i];
        long block = inner * DType.SizeOf();
        long* ix = idx.Ptr<long>();
        int size = _shape[d];
        for (int j = 0; j < count; j++) ShapeRules.NormalizeIndex(op, ix[j], size, d);
        byte* s = src.DataPointer, o = result.DataPointer;
        for (long a = 0; a < outer; a++)
            for (int j = 0; j < count; j++)
            {
                long k = ix[j] < 0 ? ix[j] + size : ix[j];
                Buffer.MemoryCopy(s + (a * size + k) * block, o + (a * count + j) * block, block, block);
            }
        return Record("index_select", result, new DimArgs(d), this, index);
    }

    /// <summary>Gathers values along a dim by an index of the same rank (<c>gather</c>).</summary>
    public Tensor Gather(int dim, Tensor index)
    {
        const string op = "gather";
        RequireIndexType(op, index);
        int d = ShapeRules.NormalizeDim(op, dim, _shape.Length);
        CheckIndexShape(op, index, d, null);
        using var idx = index.ToInternal(DType.Int64).Contiguous();
        var result = Allocate((int[])index._shape.Clone(), DType, false, Device);
        if (IsCuda)
        {
            CheckSameDevice(op, this, index);
            Gpu.GpuOps.CheckBounds(op, idx, _shape.Length == 0 ? 1 : _shape[d], d, allowNegative: false);
            Gpu.GpuOps.Gather(result, this, idx, idx.StrideArray, d);
            return Record("gather", result, new DimArgs(d), this, index);
        }
        var walk = new IndexWalk(idx._shape);
        long* ix = idx.Ptr<long>();
        int esize = DType.SizeOf();
        byte* src = DataPointer, dst = result.DataPointer;
        int size = _shape.Length == 0 ? 1 : _shape[d];
        for (long n = 0; n < walk.Count; n++, walk.Next())
        {
            long k = ix[n];
            // No wrap-around: PyTorch's gather and scatter refuse negative indices.
            if (k < 0 || k >= size) throw new KilnException(op, $"{op}: index {k} is out of bounds for dimension {d} with size {size}", KilnErrorKind.Index);
            long off = walk.Offset(_strides, d, k);
            Buffer.MemoryCopy(src + off * esize, dst + n * esize, esize, esize);
        }
        return Record("gather", result, new DimArgs(d), this, index);
    }

    /// <summary>Copy with src values written at the index positions of a dim (<c>scatter</c>).</summary>
    public Tensor Scatter(int dim, Tensor index, Tensor src) => ScatterImpl("scatter", dim, index, src, add: false);

    /// <summary>Copy with a constant written at the index positions.</summary>
    public Tensor Scatter(int dim, Tensor index, double value)
    {
        using var v = Full(index._shape, value, DType, Device);
        return ScatterImpl("scatter", dim, index, v, add: false);
    }

    /// <summary>Copy with src values added at the index positions (<c>scatter_add</c>); duplicates accumulate.</summary>
    public Tensor ScatterAdd(int dim, Tensor index, Tensor src) => ScatterImpl("scatter_add", dim, index, src, add: true);

    Tensor ScatterImpl(string op, int dim, Tensor index, Tensor src, bool add)
    {
        RequireIndexType(op, index);
        int d = ShapeRules.NormalizeDim(op, dim, _shape.Length);
        CheckIndexShape(op, index, d, src);
        if (src.DType != DType)
            throw new KilnException(op, $"{op}: expected self and src to have the same dtype, got {DType} and {src.DType}", KilnErrorKind.DType);
        var ct = add ? TypeDispatch.ComputeType(DType) : DType;
        using var work = Kernels.CopyKernel.Convert(this, ct);
        using var s = src.ToInternal(ct);
        using var idx = index.ToInternal(DType.Int64).Contiguous();
        if (IsCuda)
        {
            CheckSameDevice(op, this, index);
            CheckSameDevice(op, this, src);
            Gpu.GpuOps.CheckBounds(op, idx, _shape.Length == 0 ? 1 : _shape[d], d, allowNegative: false);
            Gpu.GpuOps.Scatter(work, s, idx, d, add);
            return Record(op, Kernels.CopyKernel.Convert(work, DType), new DimArgs(d), this, index, src);
        }
        var walk = new IndexWalk(idx._shape);
        long* ix = idx.Ptr<long>();
        int esize = ct.SizeOf();
        byte* dst = work.DataPointer, sp = s.DataPointer;
        int size = _shape.Length == 0 ? 1 : _shape[d];
        long[] dstStrides = work._strides;
        for (long n = 0; n < walk.Count; n++, walk.Next())
        {
            long k = ix[n];
            // No wrap-around: PyTorch's gather and scatter refuse negative indices.
            if (k < 0 || k >= size) throw new KilnException(op, $"{op}: index {k} is out of bounds for dimension {d} with size {size}", KilnErrorKind.Index);
            byte* to = dst + walk.Offset(dstStrides, d, k) * esize;
            byte* from = sp + walk.Offset(s._strides, -1, 0) * esize;
            if (!add) { Buffer.MemoryCopy(from, to, esize, esize); continue; }
            switch (ct)
            {
                case DType.Float32: *(float*)to += *(float*)from; break;
                case DType.Float64: *(double*)to += *(double*)from; break;
                case DType.Int64: *(long*)to += *(long*)from; break;
                default: *(int*)to += *(int*)from; break;
            }
        }
        var result = Kernels.CopyKernel.Convert(work, DType);
        return Record(op, result, new DimArgs(d), this, index, src);
    }

    void CheckIndexShape(string op, Tensor index, int d, Tensor? src)
    {
        int rank = Math.Max(_shape.Length, 1);
        if (Math.Max(index.Dim, 1) != rank)
            throw new KilnException(op, $"{op}: index tensor must have the same number of dimensions as input tensor (index {ShapeText.Format(index._shape)}, input {ShapeText.Format(_shape)})", KilnErrorKind.Index);
        for (int i = 0; i < index.Dim; i++)
        {
            if (i != d && index._shape[i] > _shape[i])
                throw new KilnException(op, $"{op}: size of index {ShapeText.Format(index._shape)} does not fit input {ShapeText.Format(_shape)} at dimension {i}", KilnErrorKind.Index);
            if (src != null && (src.Dim != index.Dim || index._shape[i] > src._shape[i]))
                throw new KilnException(op, $"{op}: index {ShapeText.Format(index._shape)} is larger than src {ShapeText.Format(src._shape)} at dimension {i}", KilnErrorKind.Index);
        }
    }

    /// <summary>Walks every position of an index tensor, giving offsets into a strided tensor.</summary>
    struct IndexWalk
    {
        readonly int[] _shape;
        readonly int[] _pos;
        public readonly long Count;

        public IndexWalk(int[] shape)
        {
            _shape = shape;
            _pos = new int[shape.Length];
            Count = ShapeRules.Numel(shape);
        }

        public void Next()
        {
            for (int i = _shape.Length - 1; i >= 0; i--)
            {
                if (++_pos[i] < _shape[i]) return;
                _pos[i] = 0;
            }
        }

        /// <summary>Offset of the current position in a tensor with these strides, with dim <paramref name="dim"/> replaced by <paramref name="at"/>.</summary>
        public long Offset(long[] strides, int dim, long at)
        {
            long o = 0;
            for (int i = 0; i < _pos.Length; i++) o += (i == dim ? at : _pos[i]) * strides[i];
            return o;
        }
    }
}
