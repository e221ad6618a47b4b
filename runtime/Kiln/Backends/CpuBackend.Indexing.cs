using System;
using Kiln.Compiler.Shapes;
using Kiln.Kernels;

namespace Kiln.Backends;

// Indexing on the CPU: row copies for index_select, a walk over the index for gather and scatter.
internal sealed unsafe partial class CpuBackend
{
    public void IndexSelect(string op, Tensor result, Tensor src, Tensor index, int dim)
    {
        var shape = src.ShapeArray;
        int count = (int)index.Numel;
        long outer = 1, inner = 1;
        for (int i = 0; i < dim; i++) outer *= shape[i];
        for (int i = dim + 1; i < shape.Length; i++) inner *= shape[i];
        long block = inner * src.DType.SizeOf();
        long* ix = index.Ptr<long>();
        int size = shape[dim];
        for (int j = 0; j < count; j++) ShapeRules.NormalizeIndex(op, ix[j], size, dim);
        byte* s = src.DataPointer, o = result.DataPointer;
        for (long a = 0; a < outer; a++)
            for (int j = 0; j < count; j++)
            {
                long k = ix[j] < 0 ? ix[j] + size : ix[j];
                Buffer.MemoryCopy(s + (a * size + k) * block, o + (a * count + j) * block, block, block);
            }
    }

    public void Gather(string op, Tensor result, Tensor x, Tensor index, int dim)
    {
        var walk = new IndexWalk(index.ShapeArray);
        long* ix = index.Ptr<long>();
        int esize = x.DType.SizeOf();
        byte* src = x.DataPointer, dst = result.DataPointer;
        int size = x.Dim == 0 ? 1 : x.ShapeArray[dim];
        var strides = x.StrideArray;
        for (long n = 0; n < walk.Count; n++, walk.Next())
        {
            long k = ix[n];
            // No wrap-around: PyTorch's gather and scatter refuse negative indices.
            if (k < 0 || k >= size) throw new KilnException(op, $"{op}: index {k} is out of bounds for dimension {dim} with size {size}", KilnErrorKind.Index);
            long off = walk.Offset(strides, dim, k);
            Buffer.MemoryCopy(src + off * esize, dst + n * esize, esize, esize);
        }
    }

    public void Scatter(string op, Tensor work, Tensor src, Tensor index, int dim, bool add)
    {
        var walk = new IndexWalk(index.ShapeArray);
        long* ix = index.Ptr<long>();
        var ct = work.DType;
        int esize = ct.SizeOf();
        byte* dst = work.DataPointer, sp = src.DataPointer;
        int size = work.Dim == 0 ? 1 : work.ShapeArray[dim];
        long[] dstStrides = work.StrideArray, srcStrides = src.StrideArray;
        for (long n = 0; n < walk.Count; n++, walk.Next())
        {
            long k = ix[n];
            if (k < 0 || k >= size) throw new KilnException(op, $"{op}: index {k} is out of bounds for dimension {dim} with size {size}", KilnErrorKind.Index);
            byte* to = dst + walk.Offset(dstStrides, dim, k) * esize;
            byte* from = sp + walk.Offset(srcStrides, -1, 0) * esize;
            if (!add) { Buffer.MemoryCopy(from, to, esize, esize); continue; }
            switch (ct)
            {
                case DType.Float32: *(float*)to += *(float*)from; break;
                case DType.Float64: *(double*)to += *(double*)from; break;
                case DType.Int64: *(long*)to += *(long*)from; break;
                default: *(int*)to += *(int*)from; break;
            }
        }
    }
}
