using System;
using System.Runtime.CompilerServices;
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
        int esize = src.DType.SizeOf();
        long block = inner * esize;
        long* ix = index.Ptr<long>();
        int size = shape[dim];
        // One pass finds the range and the runs of consecutive positions; only an index with negative or out-of-range
        // entries is checked one by one (for the error) and wrapped into a pinned copy (it may be the caller's tensor).
        long low = long.MaxValue, high = long.MinValue;
        int runCount = count == 0 ? 0 : 1;
        for (int j = 0; j < count; j++)
        {
            long v = ix[j];
            if (v < low) low = v;
            if (v > high) high = v;
            if (j > 0 && v != ix[j - 1] + 1) runCount++;
        }
        long[]? wrapped = null;
        if (count > 0 && (low < 0 || high >= size))
        {
            wrapped = GC.AllocateUninitializedArray<long>(count, pinned: true);
            for (int j = 0; j < count; j++) wrapped[j] = ShapeRules.NormalizeIndex(op, ix[j], size, dim);
            ix = (long*)Unsafe.AsPointer(ref wrapped[0]);
            runCount = Runs(ix, count, null);
        }
        byte* s = src.DataPointer, o = result.DataPointer;
        // An index made of runs of consecutive positions (frames, unfold windows, the middle of a padding; eight or more
        // on average) copies each run whole; otherwise single elements (the last dim) are copied by type: a memcpy call
        // per element costs several times the copy.
        int[]? runs = null;
        if (count >= 8L * runCount)
        {
            runs = new int[runCount + 1];
            Runs(ix, count, runs);
        }
        long grain = Math.Max(1, (1 << 15) / Math.Max(1, count * block));
        Threads.For(outer, grain, (a0, a1) =>
        {
            for (long a = a0; a < a1; a++)
            {
                byte* from = s + a * size * block, to = o + a * count * block;
                if (runs is not null)
                    for (int r = 0; r + 1 < runs.Length; r++)
                    {
                        int j = runs[r];
                        long bytes = (runs[r + 1] - j) * block;
                        Buffer.MemoryCopy(from + ix[j] * block, to + j * block, bytes, bytes);
                    }
                else if (inner == 1 && esize == 4) PickElements((int*)from, (int*)to, ix, count);
                else if (inner == 1 && esize == 8) PickElements((long*)from, (long*)to, ix, count);
                else if (inner == 1 && esize == 2) PickElements((short*)from, (short*)to, ix, count);
                else if (inner == 1) PickElements(from, to, ix, count);
                else
                    for (int j = 0; j < count; j++) Buffer.MemoryCopy(from + ix[j] * block, to + j * block, block, block);
            }
        });
        GC.KeepAlive(wrapped);
    }

    /// <summary>
    /// The number of runs of consecutive positions in <paramref name="ix"/>; with <paramref name="starts"/>, where each
    /// starts (then <paramref name="count"/>).
    /// </summary>
    static int Runs(long* ix, int count, int[]? starts)
    {
        if (count == 0) return 0;
        int r = 1;
        for (int j = 1; j < count; j++)
            if (ix[j] != ix[j - 1] + 1)
            {
                if (starts is not null) starts[r] = j;
                r++;
            }
        if (starts is not null) starts[r] = count;
        return r;
    }

    static void PickElements<T>(T* from, T* to, long* ix, int count) where T : unmanaged
    {
        for (int j = 0; j < count; j++) to[j] = from[ix[j]];
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
