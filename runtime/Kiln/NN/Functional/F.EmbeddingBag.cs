using System;
using Kiln.Compiler.Shapes;
using Kiln.Kernels;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Sums, means or maxima of bags of embeddings without materialising each lookup per bag (<c>F.embedding_bag</c>): bags
    /// are the rows of a 2-D <paramref name="input"/>, or runs of a 1-D one starting at <paramref name="offsets"/>
    /// (<paramref name="includeLastOffset"/>: the last offset closes the last bag). <paramref name="perSampleWeights"/>
    /// scale each entry ("sum" only); entries equal to <paramref name="paddingIdx"/> are left out (and do not count toward a
    /// mean); an empty bag gives zeros. Returns [bags, embedding_dim].
    /// </summary>
    public static Tensor EmbeddingBag(Tensor input, Tensor weight, Tensor? offsets = null, string mode = "mean", Tensor? perSampleWeights = null,
        bool includeLastOffset = false, int? paddingIdx = null)
    {
        const string op = "embedding_bag";
        if (weight.Dim != 2) throw new KilnException(op, $"{op}: weight must be 2-D, got {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        if (mode is not ("sum" or "mean" or "max")) throw new KilnException(op, $"{op}: mode has to be one of sum, mean or max, got '{mode}'");
        if (input.DType.IsFloatingPoint() || input.DType == DType.Bool)
            throw new KilnException(op, $"{op}: expected indices of an integer type (Long or Int), got {input.DType}", KilnErrorKind.DType);
        if (perSampleWeights is not null && mode != "sum")
            throw new KilnException(op, $"{op}: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' (got mode='{mode}')");
        if (perSampleWeights is not null && !ShapeRules.SameShape(perSampleWeights.ShapeArray, input.ShapeArray))
            throw new KilnException(op, $"{op}: per_sample_weights {ShapeText.Format(perSampleWeights.ShapeArray)} must have the input's shape {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        int num = weight.Size(0), dim = weight.Size(1);
        int pad = paddingIdx is int p ? (p < 0 ? p + num : p) : -1;
        var (starts, ends, values) = Bags(op, input, offsets, includeLastOffset);
        int bags = starts.Length, widest = 0;
        for (int b = 0; b < bags; b++)
            for (long i = starts[b]; i < ends[b]; i++)
                if (values[i] < 0 || values[i] >= num)
                    throw new KilnException(op, $"{op}: index {values[i]} at position {i} is out of range for a table of {num} rows", KilnErrorKind.Index);
        // Host float tables: the kernel reads each bag's rows in place. Other devices and dtypes: the composition below.
        if (!weight.IsCuda && weight.DType is DType.Float32 or DType.Float64 && (perSampleWeights is null || !perSampleWeights.IsCuda && perSampleWeights.DType == weight.DType))
        {
            var kind = mode == "sum" ? EmbeddingBagMode.Sum : mode == "mean" ? EmbeddingBagMode.Mean : EmbeddingBagMode.Max;
            return weight.DType == DType.Float32 ? BagsOnHost<float>(weight, perSampleWeights, starts, ends, values, pad, kind)
                                                 : BagsOnHost<double>(weight, perSampleWeights, starts, ends, values, pad, kind);
        }
        for (int b = 0; b < bags; b++) widest = Math.Max(widest, (int)(ends[b] - starts[b]));
        // Each bag as a padded row of [bags, widest] slots: the entry's table row and its position in the input, or unused.
        var rows = new long[bags * widest];
        var positions = new long[bags * widest];
        var used = new bool[bags * widest];
        var counts = new double[bags];
        for (int b = 0; b < bags; b++)
            for (long i = starts[b]; i < ends[b]; i++)
            {
                long v = values[i];
                if (v == pad) continue;
                int slot = b * widest + (int)(i - starts[b]);
                rows[slot] = v; positions[slot] = i; used[slot] = true;
                counts[b]++;
            }
        var device = weight.Device;
        using var rowIndex = OnDevice(Tensor.From(rows, rows.Length), device);
        using var usedMask = OnDevice(Tensor.From(used, bags, widest, 1), device);
        using var picked = weight.IndexSelect(0, rowIndex);
        using var slots = picked.Reshape(bags, widest, dim);
        using var zero = Tensor.Full([], 0, weight.DType, device);
        using var hostCounts = Tensor.From(counts, bags, 1);
        using var countsTyped = hostCounts.To(weight.DType);
        using var count = OnDevice(countsTyped.To(countsTyped.DType), device);
        if (mode == "max")
        {
            using var lowest = Tensor.Full([], double.NegativeInfinity, weight.DType, device);
            using var candidates = Tensor.Where(usedMask, slots, lowest);
            using var peak = candidates.Amax(1);
            using var empty = count.Eq(0);
            return Tensor.Where(empty, zero, peak);   // an empty bag gives zeros, as PyTorch
        }
        using var kept = Tensor.Where(usedMask, slots, zero);
        Tensor terms = kept;
        Tensor? scaled = null;
        if (perSampleWeights is not null)
        {
            using var flatWeights = perSampleWeights.Reshape(-1);
            using var positionIndex = OnDevice(Tensor.From(positions, positions.Length), device);
            using var perSlot = flatWeights.IndexSelect(0, positionIndex);
            using var shaped = perSlot.Reshape(bags, widest, 1);
            scaled = kept.Mul(shaped);
            terms = scaled;
        }
        using (scaled)
        using (var sum = terms.Sum(1))
        {
            if (mode == "sum") return sum.To(sum.DType);
            using var divisor = count.Clamp(1, null);
            return sum.Div(divisor);
        }
    }

    /// <summary>
    /// <see cref="EmbeddingBag"/> of a host float table by <see cref="EmbeddingBagKernel{T}"/>: one node whose backward adds
    /// the bags' gradient into the rows they read (and dots it with them for the per-entry weights).
    /// </summary>
    static unsafe Tensor BagsOnHost<T>(Tensor weight, Tensor? perSampleWeights, long[] starts, long[] ends, long[] values, long pad, EmbeddingBagMode mode)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int bags = starts.Length, dim = weight.Size(1);
        var winners = mode == EmbeddingBagMode.Max ? new int[bags * dim] : null;
        Tensor Forward()
        {
            using var table = weight.Contiguous();
            using var entryWeights = perSampleWeights?.Contiguous();
            var output = Tensor.Empty([bags, dim], weight.DType);
            fixed (int* argmax = winners)
                EmbeddingBagKernel<T>.Forward((T*)table.DataPointer, dim, starts, ends, values, pad,
                    entryWeights is null ? null : (T*)entryWeights.DataPointer, mode, (T*)output.DataPointer, argmax);
            return output;
        }
        if (!Autograd.IsGradEnabled || !weight.RequiresGrad && perSampleWeights?.RequiresGrad != true) return Forward();
        return Autograd.Function("embedding_bag", [weight, perSampleWeights], Forward, grad =>
        {
            using var noGrad = Autograd.NoGrad();
            using var g = grad.Contiguous();
            using var table = weight.Contiguous();
            using var entryWeights = perSampleWeights?.Contiguous();
            Tensor? weightGrad = null, entryGrad = null;
            if (weight.RequiresGrad)
            {
                weightGrad = Tensor.Zeros(weight.ShapeArray, weight.DType);
                fixed (int* argmax = winners)
                    EmbeddingBagKernel<T>.WeightGradient((T*)g.DataPointer, dim, starts, ends, values, pad,
                        entryWeights is null ? null : (T*)entryWeights.DataPointer, mode, argmax, (T*)weightGrad.DataPointer);
            }
            if (perSampleWeights?.RequiresGrad == true)
            {
                entryGrad = Tensor.Zeros(perSampleWeights.ShapeArray, weight.DType);   // entries outside every bag get none
                EmbeddingBagKernel<T>.PerSampleGradient((T*)g.DataPointer, (T*)table.DataPointer, dim, starts, ends, values, pad, (T*)entryGrad.DataPointer);
            }
            return [weightGrad, entryGrad];
        });
    }

    /// <summary>Each bag's [start, end) in the flattened input, and the input's values on the host.</summary>
    static (long[] Starts, long[] Ends, long[] Values) Bags(string op, Tensor input, Tensor? offsets, bool includeLastOffset)
    {
        using var wide = input.To(DType.Int64);
        var values = wide.ToArray<long>();
        if (input.Dim == 2)
        {
            if (offsets is not null) throw new KilnException(op, $"{op}: if input is 2-D, then offsets has to be None, as input is treated as a mini-batch of fixed length sequences", KilnErrorKind.Shape);
            int bags = input.Size(0), length = input.Size(1);
            var s = new long[bags];
            var e = new long[bags];
            for (int b = 0; b < bags; b++) { s[b] = (long)b * length; e[b] = (long)(b + 1) * length; }
            return (s, e, values);
        }
        if (input.Dim != 1) throw new KilnException(op, $"{op}: input has to be 1-D or 2-D, got {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        if (offsets is null) throw new KilnException(op, $"{op}: offsets has to be a 1-D tensor but got None", KilnErrorKind.Shape);
        if (offsets.Dim != 1) throw new KilnException(op, $"{op}: offsets has to be a 1-D tensor, got {ShapeText.Format(offsets.ShapeArray)}", KilnErrorKind.Shape);
        using var offsetsWide = offsets.To(DType.Int64);
        var o = offsetsWide.ToArray<long>();
        int count = includeLastOffset ? o.Length - 1 : o.Length;
        if (count < 0) throw new KilnException(op, $"{op}: include_last_offset needs at least one offset", KilnErrorKind.Shape);
        var starts = new long[count];
        var ends = new long[count];
        for (int b = 0; b < count; b++)
        {
            starts[b] = o[b];
            ends[b] = b + 1 < o.Length ? o[b + 1] : values.Length;
            if (starts[b] < 0 || ends[b] > values.Length || ends[b] < starts[b])
                throw new KilnException(op, $"{op}: offsets must be non-decreasing and within the input's {values.Length} entries, got bag {b} = [{starts[b]}, {ends[b]})", KilnErrorKind.Index);
        }
        if (count > 0 && o[0] != 0) throw new KilnException(op, $"{op}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, got {o[0]}", KilnErrorKind.Index);
        return (starts, ends, values);
    }
}
