using System;
using System.Collections.Generic;
using Kiln.Compiler.Shapes;

namespace Kiln;

/// <summary>The values and int64 indices of a sort, top-k, median or mode (PyTorch's named tuple).</summary>
/// <param name="Values">The selected values (differentiable: they are gathered from the input).</param>
/// <param name="Indices">Where they were along the dim.</param>
public readonly record struct ValuesIndices(Tensor Values, Tensor Indices);

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// Sorts along <paramref name="dim"/> (<c>torch.sort</c>). The sort is stable (equal values keep their order, PyTorch's
    /// <c>stable=True</c>); NaN sorts above every number. Values are gathered from this tensor, so gradients flow to it.
    /// </summary>
    public ValuesIndices Sort(int dim = -1, bool descending = false)
    {
        var indices = SortIndices("sort", dim, descending);
        return new(Gather(ShapeRules.NormalizeDim("sort", dim, Dim), indices), indices);
    }

    /// <summary>The indices that sort along <paramref name="dim"/> (<c>torch.argsort</c>, stable).</summary>
    public Tensor Argsort(int dim = -1, bool descending = false) => SortIndices("argsort", dim, descending);

    /// <summary>The <paramref name="k"/> largest (or smallest) elements along <paramref name="dim"/>, in order (<c>torch.topk</c>).</summary>
    public ValuesIndices TopK(int k, int dim = -1, bool largest = true)
    {
        const string op = "topk";
        int d = ShapeRules.NormalizeDim(op, dim, Dim);
        int size = Dim == 0 ? 1 : _shape[d];
        if (k < 0 || k > size) throw new KilnException(op, $"{op}: k ({k}) is out of range for dimension {d} of size {size} (shape {ShapeText.Format(_shape)})", KilnErrorKind.Index);
        using var all = SortIndices(op, d, descending: largest);
        var indices = Dim == 0 ? all.Alias() : all.Narrow(d, 0, k).Contiguous();
        return new(Gather(d, indices), indices);
    }

    /// <summary>The lower median of all elements (<c>torch.median()</c>); NaN when any element is NaN.</summary>
    public Tensor Median()
    {
        using var flat = Reshape(-1);
        var (values, indices) = flat.Median(0);
        indices.Dispose();
        return values;
    }

    /// <summary>The lower median along <paramref name="dim"/> and where it is (<c>torch.median(dim)</c>).</summary>
    public ValuesIndices Median(int dim, bool keepDim = false)
    {
        const string op = "median";
        int d = ShapeRules.NormalizeDim(op, dim, Dim);
        int size = Dim == 0 ? 1 : _shape[d];
        if (size == 0) throw new KilnException(op, $"{op}: cannot compute the median of an empty dimension {d} (shape {ShapeText.Format(_shape)})", KilnErrorKind.Shape);
        using var order = SortIndices(op, d, descending: false);
        using var at = Dim == 0 ? order.Alias() : order.Narrow(d, (size - 1) / 2, 1).Contiguous();
        var values = Gather(d, at);
        var indices = at.Clone();
        if (keepDim || Dim == 0) return new(values, indices);
        using (values) using (indices) return new(values.Squeeze(d), indices.Squeeze(d));
    }

    /// <summary>The lower median of the elements that are not NaN (<c>torch.nanmedian()</c>); NaN when all are.</summary>
    public Tensor Nanmedian()
    {
        using var flat = Reshape(-1);
        var (values, indices) = flat.Nanmedian(0);
        indices.Dispose();
        return values;
    }

    /// <summary>
    /// The lower median along <paramref name="dim"/> of the elements that are not NaN, and where it is
    /// (<c>torch.nanmedian(dim)</c>); a row of NaN only gives NaN.
    /// </summary>
    public ValuesIndices Nanmedian(int dim, bool keepDim = false)
    {
        const string op = "nanmedian";
        int d = ShapeRules.NormalizeDim(op, dim, Dim);
        int size = Dim == 0 ? 1 : _shape[d];
        if (size == 0) throw new KilnException(op, $"{op}: cannot compute the median of an empty dimension {d} (shape {ShapeText.Format(_shape)})", KilnErrorKind.Shape);
        if (Dim == 0) return Median(0, keepDim);
        using var order = SortIndices(op, d, descending: false);      // NaN sorts last
        Tensor at;
        using (Autograd.NoGrad())
        {
            using var nan = IsNan();
            using var present = nan.LogicalNot();
            using var counts = present.Sum([d], keepDim: true, dtype: DType.Int64);
            using var last = counts - 1;
            using var clamped = last.ClampMin(0);
            using var position = clamped.FloorDivide(2);             // the lower median's rank among the numbers
            at = order.Gather(d, position);
        }
        using (at)
        {
            var values = Gather(d, at);
            var indices = at.Clone();
            if (keepDim) return new(values, indices);
            using (values) using (indices) return new(values.Squeeze(d), indices.Squeeze(d));
        }
    }

    /// <summary>
    /// The most frequent value along <paramref name="dim"/> and where it last occurs (<c>torch.mode</c>): among equally
    /// frequent values the smallest, its index the last position holding it, as PyTorch's CPU kernel.
    /// </summary>
    public ValuesIndices Mode(int dim = -1, bool keepDim = false)
    {
        const string op = "mode";
        int d = ShapeRules.NormalizeDim(op, dim, Dim);
        int size = Dim == 0 ? 1 : _shape[d];
        if (size == 0) throw new KilnException(op, $"{op}: cannot compute the mode of an empty dimension {d} (shape {ShapeText.Format(_shape)})", KilnErrorKind.Shape);
        if (Dim == 0) return new(To(DType), Zeros([], DType.Int64, Device));
        Tensor at;
        using (Autograd.NoGrad())
        {
            // Rows along the last dim; in each, the stable ascending order groups equal values with their positions rising.
            using var order = SortIndices(op, d, descending: false);
            using var movedOrder = order.Transpose(d, -1);
            using var orderRows = movedOrder.Contiguous();
            using var host = IsCuda ? Cpu() : Alias();
            using var moved = host.Transpose(d, -1);
            var keyType = DType.IsFloatingPoint() ? DType.Float64 : DType.Int64;
            using var keys = Kernels.CopyKernel.Convert(moved, keyType);
            // Keys compared as exact 64-bit patterns: integers as they are (beyond 2^53 doubles would merge them), floats by
            // their bits with every NaN one pattern and -0 read as 0.
            var values = keyType == DType.Int64 ? keys.ToArray<long>() : Array.ConvertAll(keys.ToArray<double>(), ExactBits);
            var positions = orderRows.ToArray<long>();
            long rows = values.Length / size;
            var picked = new long[rows];
            for (long r = 0; r < rows; r++)
            {
                long bestCount = 0, bestIndex = 0, runStart = 0;
                for (int i = 1; i <= size; i++)
                {
                    bool runEnds = i == size || values[r * size + positions[r * size + i]] != values[r * size + positions[r * size + runStart]];
                    if (!runEnds) continue;
                    long count = i - runStart;
                    if (count > bestCount) { bestCount = count; bestIndex = positions[r * size + i - 1]; }   // the run's last position
                    runStart = i;
                }
                picked[r] = bestIndex;
            }
            var keptShape = (int[])moved.ShapeArray.Clone();
            keptShape[^1] = 1;
            using var flat = From(picked, keptShape);
            using var placed = flat.To(Device);
            using var back = placed.Transpose(d, -1);
            at = back.Contiguous();
        }
        using (at)
        {
            var values = Gather(d, at);
            var indices = at.Clone();
            if (keepDim) return new(values, indices);
            using (values) using (indices) return new(values.Squeeze(d), indices.Squeeze(d));
        }

        static long ExactBits(double v) => double.IsNaN(v) ? long.MinValue : BitConverter.DoubleToInt64Bits(v == 0 ? 0.0 : v);
    }

    /// <summary>
    /// The <paramref name="q"/>-quantile (0 ≤ q ≤ 1) with linear interpolation between the two nearest ranks, over all
    /// elements or along <paramref name="dim"/> (<c>torch.quantile</c>); NaN when any element is NaN.
    /// </summary>
    public Tensor Quantile(double q, int? dim = null, bool keepDim = false)
    {
        const string op = "quantile";
        if (!(q >= 0 && q <= 1)) throw new KilnException(op, $"{op}: q must be in the range [0, 1] but got {q}", KilnErrorKind.Shape);
        if (!DType.IsFloatingPoint()) throw new KilnException(op, $"{op}: input tensor must be either float or double dtype, got {DType}", KilnErrorKind.DType);
        if (dim is null)
        {
            using var flat = Reshape(-1);
            var r = flat.Quantile(q, 0, false);
            if (!keepDim) return r;
            using (r) return r.Reshape(Dim == 0 ? Array.Empty<int>() : Ones(Dim));
        }
        int d = ShapeRules.NormalizeDim(op, dim.Value, Dim);
        int size = Dim == 0 ? 1 : _shape[d];
        if (size == 0) throw new KilnException(op, $"{op}: cannot compute a quantile of an empty dimension {d} (shape {ShapeText.Format(_shape)})", KilnErrorKind.Shape);
        var (sorted, order) = Sort(d);
        using (sorted) using (order)
        {
            double pos = q * (size - 1);
            int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
            using var a = sorted.Narrow(d, lo, 1);
            using var b = sorted.Narrow(d, hi, 1);
            using var r = a.Lerp(b, pos - lo);
            // A NaN anywhere in the row makes its quantile NaN (NaN sorts last).
            using var last = sorted.Narrow(d, size - 1, 1);
            using var nan = last.IsNan();
            using var nanValue = Full(Array.Empty<int>(), double.NaN, DType, Device);
            var withNan = Where(nan, nanValue, r);
            if (keepDim) return withNan;
            using (withNan) return withNan.Squeeze(d);
        }
    }

    static int[] Ones(int n)
    {
        var r = new int[n];
        Array.Fill(r, 1);
        return r;
    }

    /// <summary>Stable sort order along a dim as int64 indices of this tensor's shape (computed on the host).</summary>
    Tensor SortIndices(string op, int dim, bool descending)
    {
        if (Dim == 0) return Zeros(Array.Empty<int>(), DType.Int64, Device);
        int d = ShapeRules.NormalizeDim(op, dim, Dim);
        using var grad = GradMode.Set(false);
        // Rows along the last dim: the sorted dim moved there, keys in a type that holds every value exactly.
        var keyType = DType.IsFloatingPoint() ? DType.Float64 : DType.Int64;
        using var host = IsCuda ? Cpu() : Alias();
        using var moved = host.Transpose(d, -1);
        using var keys = Kernels.CopyKernel.Convert(moved, keyType);
        int n = _shape[d];
        long rows = n == 0 ? 0 : keys.Numel / n;
        var outShape = (int[])keys._shape.Clone();
        var order = Allocate(outShape, DType.Int64);
        long* o = order.Ptr<long>();
        var idx = new int[n];
        if (keyType == DType.Float64)
        {
            double* k = keys.Ptr<double>();
            var row = new double[n];
            for (long r = 0; r < rows; r++)
            {
                new ReadOnlySpan<double>(k + r * n, n).CopyTo(row);
                for (int i = 0; i < n; i++) idx[i] = i;
                Array.Sort(idx, new FloatOrder(row, descending));
                for (int i = 0; i < n; i++) o[r * n + i] = idx[i];
            }
        }
        else
        {
            long* k = keys.Ptr<long>();
            var row = new long[n];
            for (long r = 0; r < rows; r++)
            {
                new ReadOnlySpan<long>(k + r * n, n).CopyTo(row);
                for (int i = 0; i < n; i++) idx[i] = i;
                Array.Sort(idx, new IntegerOrder(row, descending));
                for (int i = 0; i < n; i++) o[r * n + i] = idx[i];
            }
        }
        using (order)
        {
            using var back = order.Transpose(d, -1);
            var result = back.Contiguous();
            if (!IsCuda) return result;
            using (result) return result.To(Device);
        }
    }

    /// <summary>Ascending or descending by value, NaN above every number, ties by position (so the sort is stable).</summary>
    sealed class FloatOrder(double[] keys, bool descending) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            double x = keys[a], y = keys[b];
            int c = double.IsNaN(x) ? (double.IsNaN(y) ? 0 : 1) : double.IsNaN(y) ? -1 : x.CompareTo(y);
            if (descending) c = -c;
            return c != 0 ? c : a.CompareTo(b);
        }
    }

    sealed class IntegerOrder(long[] keys, bool descending) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            int c = keys[a].CompareTo(keys[b]);
            if (descending) c = -c;
            return c != 0 ? c : a.CompareTo(b);
        }
    }

    /// <summary>
    /// The distinct values in ascending order (<c>torch.unique(sorted=True)</c>), with where each element's value is among
    /// them (<c>return_inverse</c>, the input's shape) and how often each occurs (<c>return_counts</c>).
    /// </summary>
    public (Tensor Values, Tensor Inverse, Tensor Counts) Unique()
    {
        using var grad = GradMode.Set(false);
        using var host = IsCuda ? Cpu() : Alias();
        using var flat = host.Reshape(-1);
        using var order = flat.SortIndices("unique", 0, descending: false);
        using var sorted = flat.Gather(0, order);
        using var keys = Kernels.CopyKernel.Convert(sorted, DType.IsFloatingPoint() ? DType.Float64 : DType.Int64);
        long n = flat.Numel;
        long* ord = order.Ptr<long>();
        var firstOfRun = new List<long>();
        var counts = new List<long>();
        var inverse = new long[n];
        bool floating = DType.IsFloatingPoint();
        double* kd = floating ? keys.Ptr<double>() : null;
        long* kl = floating ? null : keys.Ptr<long>();
        for (long i = 0; i < n; i++)
        {
            bool same = i > 0 && (floating ? kd[i] == kd[i - 1] && !double.IsNaN(kd[i]) : kl[i] == kl[i - 1]);
            if (!same) { firstOfRun.Add(i); counts.Add(0); }
            counts[^1]++;
            inverse[ord[i]] = counts.Count - 1;
        }
        using var firstIndex = From(firstOfRun.ToArray(), firstOfRun.Count);
        return Runs(sorted.IndexSelect(0, firstIndex), inverse, counts);
    }

    /// <summary>unique's and unique_consecutive's three results, made on the host and moved to this tensor's device.</summary>
    (Tensor Values, Tensor Inverse, Tensor Counts) Runs(Tensor values, long[] inverse, List<long> counts)
    {
        var inv = From(inverse, (int[])_shape.Clone());
        var cnt = From(counts.ToArray(), counts.Count);
        if (!IsCuda) return (values, inv, cnt);
        using (values) using (inv) using (cnt) return (values.To(Device), inv.To(Device), cnt.To(Device));
    }

    /// <summary>The indices of the non-zero elements, one row per element in row-major order: int64 [count, dims] (<c>torch.nonzero</c>).</summary>
    public Tensor Nonzero()
    {
        using var grad = GradMode.Set(false);
        using var host = IsCuda ? Cpu() : Alias();
        using var mask = host.Ne(0);
        using var flat = mask.Contiguous();
        byte* m = flat.DataPointer;
        long n = flat.Numel;
        var hits = new List<long>();
        for (long i = 0; i < n; i++) if (m[i] != 0) hits.Add(i);
        int rank = Dim;
        var result = Allocate([hits.Count, rank], DType.Int64);
        long* r = result.Ptr<long>();
        for (int h = 0; h < hits.Count; h++)
        {
            long rem = hits[h];
            for (int d = rank - 1; d >= 0; d--) { r[(long)h * rank + d] = rem % _shape[d]; rem /= _shape[d]; }
        }
        if (!IsCuda) return result;
        using (result) return result.To(Device);
    }

    /// <summary>The elements where <paramref name="mask"/> (broadcast with this tensor) is true, as a 1-D tensor (<c>torch.masked_select</c>, <c>x[mask]</c>).</summary>
    public Tensor MaskedSelect(Tensor mask)
    {
        const string op = "masked_select";
        if (mask.DType != DType.Bool) throw new KilnException(op, $"{op}: expected a bool mask, got {mask.DType}", KilnErrorKind.DType);
        var shape = ShapeRules.Broadcast(op, _shape, mask._shape);
        using var values = Expand(shape);
        using var flat = values.Reshape(-1);
        using var m = mask.Expand(shape);
        using var positions = m.Reshape(-1).Nonzero();
        using var index = positions.Reshape(-1);
        return flat.IndexSelect(0, index);
    }

    /// <summary>Rolls elements along <paramref name="dim"/> by <paramref name="shifts"/> places, wrapping around (<c>torch.roll</c>).</summary>
    public Tensor Roll(int shifts, int dim)
    {
        int d = ShapeRules.NormalizeDim("roll", dim, Dim);
        int size = _shape[d];
        if (size == 0) return Clone();
        int s = ((shifts % size) + size) % size;
        if (s == 0) return Clone();
        using var tail = Narrow(d, size - s, s);
        using var head = Narrow(d, 0, size - s);
        return Cat([tail, head], d);
    }

    /// <summary>Rolls the flattened tensor (<c>torch.roll</c> without dims), keeping the shape.</summary>
    public Tensor Roll(int shifts)
    {
        using var flat = Reshape(-1);
        using var rolled = flat.Roll(shifts, 0);
        return rolled.Reshape(_shape);
    }

    /// <summary>Repeats the tensor by <paramref name="reps"/> per dim, fewer reps than dims counting from the last (<c>torch.tile</c>).</summary>
    public Tensor Tile(params int[] reps)
    {
        var full = new int[Math.Max(reps.Length, Dim)];
        Array.Fill(full, 1);
        Array.Copy(reps, 0, full, full.Length - reps.Length, reps.Length);
        if (full.Length == Dim) return Repeat(full);
        using var lifted = Reshape(LeadingOnes(full.Length - Dim));
        return lifted.Repeat(full);
    }

    int[] LeadingOnes(int extra)
    {
        var s = new int[extra + Dim];
        Array.Fill(s, 1, 0, extra);
        Array.Copy(_shape, 0, s, extra, Dim);
        return s;
    }

    /// <summary>The slices along <paramref name="dim"/>, each without that dim (<c>torch.unbind</c>).</summary>
    public Tensor[] Unbind(int dim = 0)
    {
        int d = ShapeRules.NormalizeDim("unbind", dim, Dim);
        var r = new Tensor[_shape[d]];
        for (int i = 0; i < r.Length; i++) r[i] = Select(d, i);
        return r;
    }

    /// <summary>Moves dim <paramref name="source"/> to position <paramref name="destination"/>, the others keeping their order (<c>torch.movedim</c>).</summary>
    public Tensor Movedim(int source, int destination)
    {
        int s = ShapeRules.NormalizeDim("movedim", source, Dim), t = ShapeRules.NormalizeDim("movedim", destination, Dim);
        var order = new List<int>();
        for (int i = 0; i < Dim; i++) if (i != s) order.Add(i);
        order.Insert(t, s);
        return Permute(order.ToArray());
    }

    /// <summary>
    /// <c>torch.diag</c>: a 1-D tensor becomes the diagonal of a square matrix (shifted by <paramref name="diagonal"/>);
    /// a 2-D tensor gives its diagonal as 1-D.
    /// </summary>
    public Tensor Diag(int diagonal = 0)
    {
        using var scope = Tensor.Scope();
        const string op = "diag";
        if (Dim == 1)
        {
            int n = _shape[0], size = n + Math.Abs(diagonal);
            using var hostEye = Eye(n, null, DType);
            using var eye = hostEye.To(Device); // a CUDA vector met a host identity before
            using var column = Unsqueeze(1);
            using var scaled = column.Mul(eye);                      // [n, n], the values on the diagonal
            int before = diagonal >= 0 ? 0 : -diagonal, left = diagonal >= 0 ? diagonal : 0;
            return scope.Keep(NN.F.Pad(scaled, [left, size - n - left, before, size - n - before]));
        }
        if (Dim != 2) throw new KilnException(op, $"{op}: expected a 1-D or 2-D tensor, got shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        int rows = _shape[0], cols = _shape[1];
        int start0 = diagonal >= 0 ? 0 : -diagonal, start1 = diagonal >= 0 ? diagonal : 0;
        int length = Math.Max(0, Math.Min(rows - start0, cols - start1));
        if (length == 0) return scope.Keep(Zeros([0], DType, Device));
        using var rowIndex = Arange(start0, start0 + length);
        using var colIndex = Arange(start1, start1 + length);
        using var rowsPicked = IndexSelect(0, rowIndex.To(Device));   // [length, cols]
        using var columns = colIndex.To(Device).Unsqueeze(1);
        using var picked = rowsPicked.Gather(1, columns);               // [length, 1]
        return scope.Keep(picked.Reshape(length));
    }

    /// <summary>The sum of the main diagonal of a matrix (<c>torch.trace</c>).</summary>
    public Tensor Trace()
    {
        using var scope = Tensor.Scope();
        if (Dim != 2) throw new KilnException("trace", $"trace: expected a matrix, got shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        using var d = Diag();
        return scope.Keep(d.Sum());
    }

    /// <summary>
    /// The <paramref name="k"/>-th smallest value along <paramref name="dim"/> (1-based) and its index (<c>torch.kthvalue</c>);
    /// NaN counts as the largest. The gradient goes to the element picked.
    /// </summary>
    public ValuesIndices Kthvalue(int k, int dim = -1, bool keepDim = false)
    {
        const string op = "kthvalue";
        int d = ShapeRules.NormalizeDim(op, dim, Math.Max(Dim, 1));
        int size = Dim == 0 ? 1 : _shape[d];
        if (k < 1 || k > size)
            throw new KilnException(op, $"{op}: selected number k out of range for dimension {d}: k = {k}, size {size} (shape {ShapeText.Format(_shape)})", KilnErrorKind.Index);
        if (Dim == 0) return new(Clone(), Zeros([], DType.Int64, Device));
        Tensor index;
        using (GradMode.Set(false))
        {
            using var order = SortIndices(op, d, descending: false);
            using var kth = order.Narrow(d, k - 1, 1);
            index = kth.Contiguous();
        }
        using (index)
        {
            using var values = Gather(d, index);
            return keepDim ? new(values.To(DType), index.To(DType.Int64)) : new(values.Squeeze(d), index.Squeeze(d));
        }
    }

    /// <summary>
    /// The runs of equal consecutive elements of the flattened tensor (<c>torch.unique_consecutive</c>): each run's value,
    /// which run each element belongs to (the input's shape) and each run's length.
    /// </summary>
    public (Tensor Values, Tensor Inverse, Tensor Counts) UniqueConsecutive()
    {
        using var grad = GradMode.Set(false);
        using var host = IsCuda ? Cpu() : Alias();
        using var flat = host.Reshape(-1);
        using var keys = Kernels.CopyKernel.Convert(flat, DType.IsFloatingPoint() ? DType.Float64 : DType.Int64);
        long n = flat.Numel;
        bool floating = DType.IsFloatingPoint();
        double* kd = floating ? keys.Ptr<double>() : null;
        long* kl = floating ? null : keys.Ptr<long>();
        var firstOfRun = new List<long>();
        var counts = new List<long>();
        var inverse = new long[n];
        for (long i = 0; i < n; i++)
        {
            bool same = i > 0 && (floating ? kd[i] == kd[i - 1] : kl[i] == kl[i - 1]);   // NaN never equals: each its own run
            if (!same) { firstOfRun.Add(i); counts.Add(0); }
            counts[^1]++;
            inverse[i] = counts.Count - 1;
        }
        using var firstIndex = From(firstOfRun.ToArray(), firstOfRun.Count);
        return Runs(flat.IndexSelect(0, firstIndex), inverse, counts);
    }
}
