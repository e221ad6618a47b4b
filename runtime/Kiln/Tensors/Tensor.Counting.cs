using System;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// How many times each value 0..max occurs in a 1-D tensor of non-negative integers (<c>torch.bincount</c>), at least
    /// <paramref name="minlength"/> bins; with <paramref name="weights"/> each occurrence adds its weight instead of 1.
    /// </summary>
    public Tensor Bincount(Tensor? weights = null, int minlength = 0)
    {
        const string op = "bincount";
        if (Dim != 1 || DType.IsFloatingPoint() || DType == DType.Bool)
            throw new KilnException(op, $"{op}: only supports 1-d non-negative integral inputs, got {DType} {ShapeText.Format(_shape)}", KilnErrorKind.Argument);
        if (minlength < 0) throw new KilnException(op, $"{op}: minlength should be >= 0, got {minlength}");
        if (weights is not null && (weights.Dim != 1 || weights.Size(0) != Size(0)))
            throw new KilnException(op, $"{op}: weights should be 1-d and have the same length as input, got {ShapeText.Format(weights._shape)} for input {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        var values = HostLongs(this);
        long bins = minlength;
        foreach (long v in values)
        {
            if (v < 0) throw new KilnException(op, $"{op}: only supports 1-d non-negative integral inputs, found {v}", KilnErrorKind.Argument);
            bins = Math.Max(bins, v + 1);
        }
        if (weights is null)
        {
            var counts = new long[bins];
            foreach (long v in values) counts[v]++;
            using var hostCounts = From(counts, (int)bins);
            return hostCounts.To(Device);
        }
        // float32 weights sum in float32, others in float64 (as PyTorch's dtypes).
        DType dtype = weights.DType == DType.Float32 ? DType.Float32 : DType.Float64;
        using var w = weights.To(DType.Float64);
        var weightValues = w.ToArray<double>();
        var sums = new double[bins];
        for (int i = 0; i < values.Length; i++) sums[values[i]] += weightValues[i];
        using var hostSums = From(sums, (int)bins);
        using var typed = hostSums.To(dtype);
        return typed.To(Device);
    }

    /// <summary>Counts the non-zero elements over <paramref name="dims"/> (all when null) as int64 (<c>torch.count_nonzero</c>).</summary>
    public Tensor CountNonzero(int[]? dims = null)
    {
        using var nonZero = Ne(0);
        using var asLong = nonZero.To(DType.Int64);
        return dims is null ? asLong.Sum() : asLong.Sum(dims);
    }

    /// <summary>Counts the non-zero elements along one dim (<c>torch.count_nonzero(x, dim)</c>).</summary>
    public Tensor CountNonzero(int dim) => CountNonzero([dim]);

    /// <summary>
    /// For each of <paramref name="values"/>, the index where it would be inserted into the last dim of
    /// <paramref name="sortedSequence"/> to keep it sorted (<c>torch.searchsorted</c>): the first such index, or the last
    /// with <paramref name="right"/>. A 1-D sequence serves every value; otherwise its leading dims match the values'.
    /// </summary>
    public static Tensor Searchsorted(Tensor sortedSequence, Tensor values, bool right = false)
    {
        const string op = "searchsorted";
        CheckSameDevice(op, sortedSequence, values);
        if (sortedSequence.Dim == 0) throw new KilnException(op, $"{op}: boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor and input value tensor must match, but we got boundaries tensor [] and input value tensor {ShapeText.Format(values._shape)}", KilnErrorKind.Shape);
        bool shared = sortedSequence.Dim == 1;
        if (!shared)
        {
            bool match = values.Dim == sortedSequence.Dim;
            for (int i = 0; match && i < sortedSequence.Dim - 1; i++) match = values._shape[i] == sortedSequence._shape[i];
            if (!match)
                throw new KilnException(op, $"{op}: boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor and input value tensor must match, but we got boundaries tensor {ShapeText.Format(sortedSequence._shape)} and input value tensor {ShapeText.Format(values._shape)}", KilnErrorKind.Shape);
        }
        // Compared in float64: exact for every float dtype, and for integers below 2^53.
        using var seq = sortedSequence.To(DType.Float64);
        using var val = values.To(DType.Float64);
        var s = seq.ToArray<double>();
        var v = val.ToArray<double>();
        int n = sortedSequence._shape[^1];
        int perRow = values.Dim == 0 ? 1 : values._shape[^1];
        var result = new long[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            int row = shared ? 0 : i / perRow;
            result[i] = Insertion(s.AsSpan(row * n, n), v[i], right);
        }
        using var host = From(result, values._shape);
        return host.To(values.Device);
    }

    /// <summary>
    /// The bucket of each element among sorted 1-D <paramref name="boundaries"/> (<c>torch.bucketize</c>): i such that
    /// boundaries[i-1] &lt; x ≤ boundaries[i], or boundaries[i-1] ≤ x &lt; boundaries[i] with <paramref name="right"/>.
    /// </summary>
    public Tensor Bucketize(Tensor boundaries, bool right = false)
    {
        if (boundaries.Dim != 1) throw new KilnException("bucketize", $"bucketize: boundaries tensor must be 1 dimension, but got dim({boundaries.Dim})", KilnErrorKind.Shape);
        return Searchsorted(boundaries, this, right);
    }

    // The first index whose element is ≥ x (left) or > x (right): a binary search over a sorted row; NaN sorts last.
    static long Insertion(ReadOnlySpan<double> row, double x, bool right)
    {
        int lo = 0, hi = row.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            bool goRight = right ? !(x < row[mid]) : row[mid] < x;
            if (goRight) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    static long[] HostLongs(Tensor t)
    {
        using var wide = t.To(DType.Int64);
        return wide.ToArray<long>();
    }

    /// <summary>
    /// A histogram of <paramref name="bins"/> equal-width bins over [<paramref name="min"/>, <paramref name="max"/>]
    /// (<c>torch.histc</c>): values outside are ignored, the last bin includes max, and min = max takes the data's range.
    /// Counted on the host in the input's floating dtype.
    /// </summary>
    public Tensor Histc(int bins = 100, double min = 0, double max = 0)
    {
        const string op = "histc";
        if (!DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: expected a floating point input, got {DType}", KilnErrorKind.DType);
        if (bins <= 0) throw new KilnException(op, $"{op}: bins must be > 0, but got {bins}");
        if (min > max) throw new KilnException(op, $"{op}: max must be larger than min, got min {min} and max {max}");
        using var wide = To(DType.Float64);
        var values = wide.ToArray<double>();
        if (min == max && values.Length > 0)
        {
            min = double.PositiveInfinity; max = double.NegativeInfinity;
            foreach (double v in values) if (!double.IsNaN(v)) { min = Math.Min(min, v); max = Math.Max(max, v); }
        }
        if (min == max || double.IsInfinity(min)) { min -= 1; max += 1; }
        if (double.IsInfinity(min) || double.IsInfinity(max) || double.IsNaN(min) || double.IsNaN(max))
            throw new KilnException(op, $"{op}: range of [{min}, {max}] is not finite");
        bool single = DType != DType.Float64;
        float lowF = (float)min, spanF = (float)max - (float)min;
        var counts = new double[bins];
        foreach (double v in values)
        {
            if (!(v >= min && v <= max)) continue;
            // The bin as PyTorch computes it, in the input's precision: (x - min) · bins / (max - min), the top edge folded in.
            long pos = single ? (long)(((float)v - lowF) * bins / spanF) : (long)((v - min) * bins / (max - min));
            if (pos >= bins) pos = bins - 1;
            counts[pos]++;
        }
        using var host = From(counts, bins);
        using var typed = host.To(DType);
        return typed.To(Device);
    }

    /// <summary>
    /// A histogram of <paramref name="bins"/> equal-width bins over <paramref name="range"/> (the data's minimum and
    /// maximum by default; an empty range widened by ½ each way) (<c>torch.histogram</c>): values outside are ignored, the
    /// last bin includes its right edge; with <paramref name="weight"/> each value adds its weight, with
    /// <paramref name="density"/> the counts are divided by their total and each bin's width.
    /// </summary>
    public HistogramResult Histogram(int bins = 100, (double Min, double Max)? range = null, Tensor? weight = null, bool density = false)
    {
        const string op = "histogram";
        CheckHistogramInput(op, weight);
        if (bins <= 0) throw new KilnException(op, $"{op}: bins must be > 0, but got {bins}");
        using var wide = To(DType.Float64);
        var values = wide.ToArray<double>();
        double low, high;
        if (range is { } r) (low, high) = r;
        else
        {
            low = double.PositiveInfinity; high = double.NegativeInfinity;
            foreach (double v in values) if (!double.IsNaN(v)) { low = Math.Min(low, v); high = Math.Max(high, v); }
            if (values.Length == 0) (low, high) = (0, 0);
        }
        if (!(low <= high)) throw new KilnException(op, $"{op}: max must be larger than min, got min {low} and max {high}");
        if (double.IsInfinity(low) || double.IsInfinity(high) || double.IsNaN(low) || double.IsNaN(high))
            throw new KilnException(op, $"{op}: range of [{low}, {high}] is not finite");
        if (low == high) { low -= 0.5; high += 0.5; }
        var edges = Linspace(low, high, bins + 1, DType);
        return HistogramOver(op, values, edges, weight, density, uniform: true);
    }

    /// <summary>A histogram over the given increasing <paramref name="binEdges"/> (<c>torch.histogram</c> with a tensor of edges).</summary>
    public HistogramResult Histogram(Tensor binEdges, Tensor? weight = null, bool density = false)
    {
        const string op = "histogram";
        CheckHistogramInput(op, weight);
        if (binEdges.Dim != 1 || binEdges.Numel < 2)
            throw new KilnException(op, $"{op}: bins must be a 1-D tensor of at least 2 edges, got shape {ShapeText.Format(binEdges.ShapeArray)}", KilnErrorKind.Shape);
        using var wide = To(DType.Float64);
        var edges = binEdges.To(DType);
        var e = HistogramEdges(edges);
        for (int i = 1; i < e.Length; i++)
            if (!(e[i] >= e[i - 1])) throw new KilnException(op, $"{op}: bin edges must be increasing, got {e[i - 1]} then {e[i]} at {i}");
        return HistogramOver(op, wide.ToArray<double>(), edges, weight, density, uniform: false);
    }

    void CheckHistogramInput(string op, Tensor? weight)
    {
        if (!DType.IsFloatingPoint()) throw new KilnException(op, $"{op}: expected a floating point input, got {DType}", KilnErrorKind.DType);
        if (weight is not null && !weight.ShapeArray.AsSpan().SequenceEqual(_shape))
            throw new KilnException(op, $"{op}: weight {ShapeText.Format(weight.ShapeArray)} must have the input's shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
    }

    static double[] HistogramEdges(Tensor edges)
    {
        using var wide = edges.To(DType.Float64);
        return wide.ToArray<double>();
    }

    /// <summary>
    /// Counts (or weights) per bin of <paramref name="edges"/>: uniform edges find a value's bin by interpolation, then a
    /// step either way against the edges as stored (PyTorch's local search), others by binary search.
    /// </summary>
    HistogramResult HistogramOver(string op, double[] values, Tensor edges, Tensor? weight, bool density, bool uniform)
    {
        var e = HistogramEdges(edges);
        int bins = e.Length - 1;
        double[]? w = null;
        if (weight is not null) { using var ww = weight.To(DType.Float64); w = ww.ToArray<double>(); }
        var hist = new double[bins];
        double low = e[0], high = e[^1];
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            if (!(v >= low && v <= high)) continue;
            long pos;
            if (uniform)
            {
                pos = high == low ? 0 : (long)((v - low) * bins / (high - low));
                if (pos > bins - 1) pos = bins - 1;
                while (pos > 0 && v < e[pos]) pos--;
                while (pos < bins - 1 && v >= e[pos + 1]) pos++;
            }
            else
            {
                pos = Insertion(e, v, right: true) - 1;                 // the last edge ≤ v
                if (pos >= bins) pos = bins - 1;                        // v on the last edge: the last bin
            }
            hist[pos] += w?[i] ?? 1;
        }
        if (density)
        {
            double total = 0;
            foreach (double h in hist) total += h;
            for (int b = 0; b < bins; b++) hist[b] /= total * (e[b + 1] - e[b]);
        }
        using var host = From(hist, bins);
        using var typed = host.To(DType);
        var placedEdges = edges.To(Device);
        edges.Dispose();
        return new HistogramResult(typed.To(Device), placedEdges);
    }
}

/// <summary>What <see cref="Tensor.Histogram(int, ValueTuple{double, double}?, Tensor?, bool)"/> returns (<c>torch.histogram</c>'s named tuple).</summary>
/// <param name="Hist">The count (or weight, or density) in each bin.</param>
/// <param name="BinEdges">The bins' edges, one more than the bins.</param>
public readonly record struct HistogramResult(Tensor Hist, Tensor BinEdges);
