using System;
using System.Collections.Generic;
using System.Numerics;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels;
using Kiln.Kernels.Reduce;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// Lays the reduced dims out last and contiguous (a view when they already are), so every reduction
    /// is "reduce each row of a [rows, length] matrix".
    /// </summary>
    Tensor RowsFor(string op, int[]? dims, bool keepDim, DType compute, out int[] outShape, out long rows, out long length)
    {
        outShape = ShapeRules.Reduce(op, _shape, dims, keepDim, out var reduced);
        var perm = new List<int>(_shape.Length);
        for (int i = 0; i < _shape.Length; i++) if (!reduced[i]) perm.Add(i);
        for (int i = 0; i < _shape.Length; i++) if (reduced[i]) perm.Add(i);
        length = 1;
        for (int i = 0; i < _shape.Length; i++) if (reduced[i]) length *= _shape[i];
        rows = length == 0 ? ShapeRules.Numel(outShape) : Numel / length;
        using var noGrad = GradMode.Set(false);
        using var p = Permute(perm.ToArray());
        using var c = p.ContiguousAs(compute);
        return c.Alias();
    }

    internal static void ForRows(long rows, long length, Action<long> body) =>
        Threads.For(rows, Math.Max(1, 65536 / Math.Max(1, length)), [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (s, e) => { for (long r = s; r < e; r++) body(r); });

    /// <summary>Sum over all elements; integers and bool give int64.</summary>
    public Tensor Sum() => Sum(null, false);

    /// <summary>Sum over <paramref name="dims"/> (<c>sum(dim, keepdim)</c>).</summary>
    public Tensor Sum(int[]? dims, bool keepDim = false, DType? dtype = null)
    {
        var rt = dtype ?? (DType.IsFloatingPoint() ? DType : DType.Int64);
        var ct = rt.IsFloatingPoint() ? TypeDispatch.ComputeType(rt) : DType.Int64;
        if (Backend.SumFastPath(this, dims, keepDim, rt) is { } fast) return Record("sum", fast, new ReduceArgs(dims, keepDim), this);
        using var x = RowsFor("sum", dims, keepDim, ct, out var shape, out long rows, out long len);
        var y = Allocate(shape, ct, false, Device);
        Backend.RowSum(x, y, rows, len);
        return Record("sum", Finish(y, rt), new ReduceArgs(dims, keepDim), this);
    }

    /// <summary>The host's faster sums: an integer total in blocks (no full int64 copy), float32 runs of adjacent dims before kept ones; null for the general path.</summary>
    internal Tensor? HostSumFastPath(int[]? dims, bool keepDim, DType rt)
    {
        var ct = rt.IsFloatingPoint() ? TypeDispatch.ComputeType(rt) : DType.Int64;
        if (dims is null && !keepDim && ct == DType.Int64 && DType != ct && IsContiguous && Numel > ConvertBlock) return IntegerSumInBlocks(rt);
        return AdjacentRunSum(dims, keepDim, rt);
    }

    /// <summary>The exact int64 total of a large contiguous integer tensor, converting one block at a time.</summary>
    Tensor IntegerSumInBlocks(DType rt)
    {
        long total = 0, numel = Numel;
        using (GradMode.Set(false))
            for (long start = 0; start < numel; start += ConvertBlock)
            {
                using var block = AsStrided([(int)Math.Min(ConvertBlock, numel - start)], [1], _offset + start);
                using var part = block.Sum(null, false, DType.Int64);
                total += part.Item<long>();
            }
        using var s = Scalar(total);
        return Kernels.CopyKernel.Convert(s, rt);
    }

    /// <summary>
    /// Float32 sums over one run of adjacent dims of a contiguous tensor followed by dims kept (bias gradients: the leading
    /// dims; a group of heads: a middle one) without the transpose the general path makes; null when the case does not
    /// apply (a run at the end is already rows of the general path).
    /// </summary>
    Tensor? AdjacentRunSum(int[]? dims, bool keepDim, DType rt)
    {
        if (DType != DType.Float32 || rt != DType.Float32 || dims == null || dims.Length == 0 || dims.Length >= _shape.Length || !IsContiguous) return null;
        var shape = ShapeRules.Reduce("sum", _shape, dims, keepDim, out var reduced);
        int first = Array.IndexOf(reduced, true), end = first;
        while (end < _shape.Length && reduced[end]) end++;
        if (end == _shape.Length) return null;
        for (int i = end; i < _shape.Length; i++) if (reduced[i]) return null;
        long outer = 1, rows = 1;
        for (int i = 0; i < first; i++) outer *= _shape[i];
        for (int i = first; i < end; i++) rows *= _shape[i];
        long cols = Numel / Math.Max(outer * rows, 1);
        if (rows < 2 || cols == 0 || outer == 0) return null;
        var y = Allocate(shape, DType.Float32);
        Kernels.Reduce.ColumnKernels.SumMiddle(Ptr<float>(), y.Ptr<float>(), outer, rows, cols);
        return y;
    }

    /// <summary>Sum over one dim.</summary>
    public Tensor Sum(int dim, bool keepDim = false) => Sum(new[] { dim }, keepDim);

    /// <summary>Product over all elements (<c>prod</c>).</summary>
    public Tensor Prod() => ProdImpl(null, false);
    /// <summary>Product over one dim.</summary>
    public Tensor Prod(int dim, bool keepDim = false) => ProdImpl(new[] { dim }, keepDim);

    Tensor ProdImpl(int[]? dims, bool keepDim)
    {
        var rt = DType.IsFloatingPoint() ? DType : DType.Int64;
        var ct = rt.IsFloatingPoint() ? TypeDispatch.ComputeType(rt) : DType.Int64;
        using var x = RowsFor("prod", dims, keepDim, ct, out var shape, out long rows, out long len);
        var y = Allocate(shape, ct, false, Device);
        Backend.RowProd(x, y, rows, len);
        return Record("prod", Finish(y, rt), ReduceArgs.Over(dims?[0], keepDim), this);
    }

    /// <summary>
    /// A double-valued statistic over rows of a floating tensor, as the device's row kernel; null where the device has
    /// none (the caller records a composition).
    /// </summary>
    Tensor? FloatStat(string op, int[]? dims, bool keepDim, Backends.RowStatistic stat, double parameter = 0, ReduceArgs? args = null)
    {
        if (!DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {DType}", KilnErrorKind.DType);
        var ct = TypeDispatch.ComputeType(DType);
        using var x = RowsFor(op, dims, keepDim, ct, out var shape, out long rows, out long len);
        var y = Allocate(shape, ct, false, Device);
        if (!Backend.RowStatistic(stat, x, y, rows, len, parameter)) { y.Dispose(); return null; }
        return Record(op, Finish(y, DType), args ?? new ReduceArgs(dims, keepDim), this);
    }

    /// <summary>A statistic every device has a row kernel for.</summary>
    Tensor KernelStat(string op, int[]? dims, bool keepDim, Backends.RowStatistic stat) => FloatStat(op, dims, keepDim, stat)
        ?? throw new KilnException(op, $"{op}: the {Device} backend has no kernel for this reduction", KilnErrorKind.Device);

    /// <summary>Mean over all elements (floating input only, as in PyTorch).</summary>
    public Tensor Mean() => Mean(null, false);

    /// <summary>Mean over dims.</summary>
    public Tensor Mean(int[]? dims, bool keepDim = false) => KernelStat("mean", dims, keepDim, Backends.RowStatistic.Mean);

    /// <summary>Mean over one dim.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => Mean(new[] { dim }, keepDim);

    /// <summary>Variance with <paramref name="correction"/> (1 = unbiased, PyTorch's default).</summary>
    public Tensor Var(int[]? dims = null, double correction = 1, bool keepDim = false) =>
        FloatStat("var", dims, keepDim, Backends.RowStatistic.Var, correction, new MomentArgs(dims, keepDim, correction)) ?? ComposedVar(dims, correction, keepDim);

    /// <summary>Standard deviation with <paramref name="correction"/>.</summary>
    public Tensor Std(int[]? dims = null, double correction = 1, bool keepDim = false) =>
        FloatStat("std", dims, keepDim, Backends.RowStatistic.Std, correction, new MomentArgs(dims, keepDim, correction)) ?? ComposedStd(dims, correction, keepDim);

    /// <summary>The standard deviation and the mean over the same dims (<c>torch.std_mean</c>).</summary>
    public (Tensor Std, Tensor Mean) StdMean(int[]? dims = null, double correction = 1, bool keepDim = false) =>
        (Std(dims, correction, keepDim), Mean(dims, keepDim));

    /// <summary>The variance and the mean over the same dims (<c>torch.var_mean</c>).</summary>
    public (Tensor Var, Tensor Mean) VarMean(int[]? dims = null, double correction = 1, bool keepDim = false) =>
        (Var(dims, correction, keepDim), Mean(dims, keepDim));

    /// <summary>Vector p-norm over dims (2 by default; 1, inf and any p &gt; 0 too).</summary>
    public Tensor Norm(double p = 2, int[]? dims = null, bool keepDim = false) =>
        FloatStat("norm", dims, keepDim, Backends.RowStatistic.Norm, p, new NormArgs(dims, keepDim, p)) ?? ComposedNorm(p, dims, keepDim);

    // Where the device has no row kernel for them, these statistics are recorded compositions of kernels it has (sums,
    // powers), so their gradients come from the parts' rules.
    Tensor ComposedVar(int[]? dims, double correction, bool keepDim)
    {
        ShapeRules.Reduce("var", _shape, dims, keepDim, out var reduced);
        long n = 1;
        for (int i = 0; i < _shape.Length; i++) if (reduced[i]) n *= _shape[i];
        using var mean = Mean(dims, keepDim: true);
        using var centred = Sub(mean);
        using var squares = centred.Mul(centred);
        using var total = squares.Sum(dims, keepDim);
        return total.Div(Math.Max(n - correction, 0));
    }

    Tensor ComposedStd(int[]? dims, double correction, bool keepDim)
    {
        using var v = ComposedVar(dims, correction, keepDim);
        return v.Sqrt();
    }

    // The norm's value composed, recorded as one norm node: its rule gives a zero row a zero gradient, where the chain of
    // pow and sum would meet 0·inf there.
    Tensor ComposedNorm(double p, int[]? dims, bool keepDim)
    {
        Tensor value;
        using (Autograd.NoGrad()) value = ComposedNormValue(p, dims, keepDim);
        return Record("norm", value, new NormArgs(dims, keepDim, p), this);
    }

    Tensor ComposedNormValue(double p, int[]? dims, bool keepDim)
    {
        if (p == 0)
        {
            using var nonZero = Ne(0);
            using var asFloat = nonZero.To(DType);
            return asFloat.Sum(dims, keepDim);
        }
        using var a = Abs();
        if (double.IsPositiveInfinity(p))
        {
            if (dims is null) return a.Max();
            if (dims.Length != 1) throw new KilnException("norm", "norm: the CUDA backend takes the inf-norm over all dims or one dim", KilnErrorKind.Device);
            var (v, i) = a.Extreme("norm", dims[0], keepDim, true);
            i.Dispose();
            return v;
        }
        using var powered = a.Pow(p);
        using var s = powered.Sum(dims, keepDim);
        return s.Pow(1 / p);
    }

    /// <summary>log(sum(exp(x))) over dims, computed stably.</summary>
    public Tensor LogSumExp(int[] dims, bool keepDim = false)
    {
        if (!DType.IsFloatingPoint()) { using var f = To(DTypes.Default); return f.LogSumExp(dims, keepDim); }
        return KernelStat("logsumexp", dims, keepDim, Backends.RowStatistic.LogSumExp);
    }

    /// <summary>log(sum(exp(x))) over one dim.</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false) => LogSumExp(new[] { dim }, keepDim);

    /// <summary>Maximum of all elements.</summary>
    public Tensor Max() => ExtremeAll("max", true);

    /// <summary>Minimum of all elements.</summary>
    public Tensor Min() => ExtremeAll("min", false);

    /// <summary>Max along a dim: values and the index of the first maximum (<c>max(dim)</c>).</summary>
    public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false) => RecordExtreme("max_dim", Extreme("max", dim, keepDim, true), dim, keepDim);

    /// <summary>Min along a dim: values and indices.</summary>
    public (Tensor Values, Tensor Indices) Min(int dim, bool keepDim = false) => RecordExtreme("min_dim", Extreme("min", dim, keepDim, false), dim, keepDim);

    (Tensor, Tensor) RecordExtreme(string op, (Tensor Values, Tensor Indices) r, int dim, bool keepDim) =>
        (Record(op, r.Values, new DimReduceArgs(dim, keepDim), this, r.Indices), r.Indices);

    /// <summary>Index of the maximum of the flattened tensor.</summary>
    public Tensor ArgMax() { using var f = Reshape(-1); var (v, i) = f.Extreme("argmax", 0, false, true); v.Dispose(); return i; }

    /// <summary>Index of the maximum along a dim.</summary>
    public Tensor ArgMax(int dim, bool keepDim = false) { var (v, i) = Extreme("argmax", dim, keepDim, true); v.Dispose(); return i; }

    /// <summary>Index of the minimum of the flattened tensor.</summary>
    public Tensor ArgMin() { using var f = Reshape(-1); var (v, i) = f.Extreme("argmin", 0, false, false); v.Dispose(); return i; }

    /// <summary>Index of the minimum along a dim.</summary>
    public Tensor ArgMin(int dim, bool keepDim = false) { var (v, i) = Extreme("argmin", dim, keepDim, false); v.Dispose(); return i; }

    Tensor ExtremeAll(string op, bool max)
    {
        if (Numel == 0) throw new KilnException(op, $"{op}: expected a non-empty tensor because the operation has no identity (shape {ShapeText.Format(_shape)})", KilnErrorKind.Shape);
        using var f = Reshape(-1);
        var (v, i) = f.Extreme(op, 0, false, max);
        i.Dispose();
        return Record(op, v, null, this);
    }

    (Tensor, Tensor) Extreme(string op, int dim, bool keepDim, bool max)
    {
        var ct = TypeDispatch.ComputeType(DType);
        using var x = RowsFor(op, new[] { dim }, keepDim, ct, out var shape, out long rows, out long len);
        if (len == 0) throw new KilnException(op, $"{op}: cannot reduce over a zero-size dimension (shape {ShapeText.Format(_shape)})", KilnErrorKind.Shape);
        var values = Allocate(shape, ct, false, Device);
        var indices = Allocate((int[])shape.Clone(), DType.Int64, false, Device);
        Backend.RowExtreme(x, values, indices, rows, len, max);
        return (Finish(values, DType), indices);
    }

    /// <summary>True when every element is nonzero (bool result).</summary>
    public Tensor All() => Logical("all", null, false, all: true);
    /// <summary>All along a dim.</summary>
    public Tensor All(int dim, bool keepDim = false) => Logical("all", new[] { dim }, keepDim, all: true);
    /// <summary>True when any element is nonzero (bool result).</summary>
    public Tensor Any() => Logical("any", null, false, all: false);
    /// <summary>Any along a dim.</summary>
    public Tensor Any(int dim, bool keepDim = false) => Logical("any", new[] { dim }, keepDim, all: false);

    Tensor Logical(string op, int[]? dims, bool keepDim, bool all) => Backend.AllAny(this, op, dims, keepDim, all) ?? ComposedAllAny(op, dims, keepDim, all);

    /// <summary>all/any where the device has no kernel: count the nonzero elements (a row sum) and compare with none / all of them.</summary>
    Tensor ComposedAllAny(string op, int[]? dims, bool keepDim, bool all)
    {
        using var nz = Ne(0);
        using var counts = nz.Sum(dims, keepDim, DType.Int64);
        if (!all) return counts.Gt(0);
        ShapeRules.Reduce(op, _shape, dims, keepDim, out var reduced);
        long n = 1;
        for (int i = 0; i < _shape.Length; i++) if (reduced[i]) n *= _shape[i];
        return counts.Eq(n);
    }

    /// <summary>all/any on the host: one scan of each row of bytes.</summary>
    internal Tensor HostAllAny(string op, int[]? dims, bool keepDim, bool all)
    {
        using var b = To(DType.Bool);
        using var x = b.RowsFor(op, dims, keepDim, DType.Bool, out var shape, out long rows, out long len);
        var y = Allocate(shape, DType.Bool);
        byte* px = x.Ptr<byte>(), py = y.Ptr<byte>();
        ForRows(rows, len, r =>
        {
            bool acc = all;
            var row = new ReadOnlySpan<byte>(px + r * len, (int)len);
            acc = all ? !row.Contains((byte)0) : row.IndexOfAnyExcept((byte)0) >= 0;
            py[r] = acc ? (byte)1 : (byte)0;
        });
        return y;
    }

    /// <summary>Softmax along a dim.</summary>
    public Tensor Softmax(int dim) => Autocast.Widen(this, cudaOnly: true) ? Autocast.RunWidened(t => t.Softmax(dim), this) : Record("softmax", SoftmaxImpl("softmax", dim, log: false), new DimArgs(dim), this);

    /// <summary>Log-softmax along a dim, computed stably.</summary>
    public Tensor LogSoftmax(int dim) => Autocast.Widen(this, cudaOnly: true) ? Autocast.RunWidened(t => t.LogSoftmax(dim), this) : Record("log_softmax", SoftmaxImpl("log_softmax", dim, log: true), new DimArgs(dim), this);

    /// <summary>Softmax or log-softmax of this·<paramref name="scale"/> along <paramref name="dim"/>, unrecorded.</summary>
    internal Tensor SoftmaxImpl(string op, int dim, bool log, float scale = 1)
    {
        using var noGrad = GradMode.Set(false);
        var rt = DType.IsFloatingPoint() ? DType : DTypes.Default;
        var ct = TypeDispatch.ComputeType(rt);
        int d = ShapeRules.NormalizeDim(op, dim, _shape.Length);
        if (_shape.Length == 0) { using var s = Reshape(1); using var r0 = s.SoftmaxImpl(op, 0, log, scale); return r0.Reshape(); }
        using var moved = Transpose(d, -1);
        using var x = moved.ContiguousAs(ct);
        var y = Allocate((int[])x._shape.Clone(), ct, false, Device);
        int len = x._shape[^1];
        long rows = len == 0 ? 0 : x.Numel / len;
        Backend.RowSoftmax(x, y, rows, len, log, scale);
        using var back = y.Transpose(d, -1);
        var result = back.IsContiguous ? back.AsStrided(back._shape, back._strides, back._offset) : back.Contiguous();
        y.Dispose();
        return Finish(result, rt);
    }

    /// <summary>Cumulative sum along a dim (integers give int64).</summary>
    public Tensor CumSum(int dim) => Record("cumsum", CumSumImpl(dim), new DimArgs(dim), this);

    Tensor CumSumImpl(int dim)
    {
        using var noGrad = GradMode.Set(false);
        var rt = DType.IsFloatingPoint() ? DType : DType.Int64;
        var ct = rt.IsFloatingPoint() ? TypeDispatch.ComputeType(rt) : DType.Int64;
        int d = ShapeRules.NormalizeDim("cumsum", dim, _shape.Length);
        if (_shape.Length == 0) return To(rt);
        using var moved = Transpose(d, -1);
        using var x = Kernels.CopyKernel.Convert(moved, ct);
        int len = x._shape[^1];
        long rows = len == 0 ? 0 : x.Numel / len;
        Backend.RowCumSum(x, rows, len);
        using var back = x.Transpose(d, -1);
        var result = back.Contiguous();
        return Finish(result, rt);
    }
}
