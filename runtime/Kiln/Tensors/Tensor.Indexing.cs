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
        using var idx = index.ContiguousAs(DType.Int64);
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
        CheckSameDevice(op, this, index);
        Backend.IndexSelect(op, result, src, idx, d);
        return Record("index_select", result, new DimArgs(d), this, index);
    }

    /// <summary>Gathers values along a dim by an index of the same rank (<c>gather</c>).</summary>
    public Tensor Gather(int dim, Tensor index)
    {
        const string op = "gather";
        RequireIndexType(op, index);
        int d = ShapeRules.NormalizeDim(op, dim, _shape.Length);
        CheckIndexShape(op, index, d, null);
        using var idx = index.ContiguousAs(DType.Int64);
        var result = Allocate((int[])index._shape.Clone(), DType, false, Device);
        CheckSameDevice(op, this, index);
        Backend.Gather(op, result, this, idx, d);
        return Record("gather", result, new DimArgs(d), this, index);
    }

    /// <summary>
    /// Values picked along <paramref name="dim"/> at <paramref name="indices"/>, the other dims broadcast between the two
    /// (<c>torch.take_along_dim</c>; argsort's and topk's indices pick this way). Without a dim, both are flattened.
    /// </summary>
    public Tensor TakeAlongDim(Tensor indices, int? dim = null)
    {
        const string op = "take_along_dim";
        if (dim is null)
        {
            using var flat = Reshape(-1);
            using var flatIndices = indices.Reshape(-1);
            return flat.Gather(0, flatIndices);
        }
        int d = ShapeRules.NormalizeDim(op, dim.Value, _shape.Length);
        if (indices.Dim != Dim)
            throw new KilnException(op, $"{op}: input and indices should have the same number of dimensions, but got {ShapeText.Format(_shape)} and {ShapeText.Format(indices._shape)}", KilnErrorKind.Shape);
        var selfShape = (int[])_shape.Clone();
        var indexShape = (int[])indices._shape.Clone();
        for (int i = 0; i < selfShape.Length; i++)
        {
            if (i == d) continue;
            int a = selfShape[i], b = indexShape[i];
            if (a != b && a != 1 && b != 1)
                throw new KilnException(op, $"{op}: shapes {ShapeText.Format(_shape)} and {ShapeText.Format(indices._shape)} cannot be broadcast outside dim {d}: size {a} and size {b} differ at dimension {i}", KilnErrorKind.Shape);
            selfShape[i] = indexShape[i] = a == 1 ? b : a;
        }
        using var x = Expand(selfShape);
        using var index = indices.Expand(indexShape);
        return x.Gather(d, index);
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
        using var idx = index.ContiguousAs(DType.Int64);
        CheckSameDevice(op, this, index);
        CheckSameDevice(op, this, src);
        Backend.Scatter(op, work, s, idx, d, add);
        return Record(op, Kernels.CopyKernel.Convert(work, DType), new DimArgs(d), this, index, src);
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
}
