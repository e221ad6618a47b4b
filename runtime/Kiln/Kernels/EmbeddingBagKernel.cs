using System;
using System.Numerics;

namespace Kiln.Kernels;

/// <summary>How <c>embedding_bag</c> folds a bag's rows.</summary>
internal enum EmbeddingBagMode { Sum, Mean, Max }

/// <summary>
/// <c>embedding_bag</c> on the host: each bag's table rows read in place and folded into its output row (sum, optionally
/// weighted per entry; mean over the entries that are not padding; or max, remembering the winning row per column as
/// PyTorch does: the first entry, then any strictly greater), bags spread over the library's threads; and the backward,
/// which adds each bag's output gradient back into the rows it read.
/// </summary>
/// <remarks>
/// A bag is the entries [starts[b], ends[b]) of <c>values</c>; an entry equal to <c>pad</c> is skipped. Indices were
/// checked against the table by the caller.
/// </remarks>
internal static unsafe class EmbeddingBagKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The bags' rows [bags, dim] into <paramref name="output"/>; for max, each column's winning table row (-1 for an empty bag) into <paramref name="argmax"/>.</summary>
    public static void Forward(T* weight, int dim, long[] starts, long[] ends, long[] values, long pad, T* perSample, EmbeddingBagMode mode, T* output, int* argmax)
    {
        int bags = starts.Length;
        T* w = weight, psw = perSample, o = output;
        int* am = argmax;
        Threads.For(bags, Grain(starts, ends, dim), (from, to) =>
        {
            for (long b = from; b < to; b++)
            {
                T* row = o + b * dim;
                new Span<T>(row, dim).Clear();
                if (mode == EmbeddingBagMode.Max) { MaxBag(w, dim, starts[b], ends[b], values, pad, row, am + b * dim); continue; }
                int count = 0;
                for (long i = starts[b]; i < ends[b]; i++)
                {
                    if (values[i] == pad) continue;
                    count++;
                    T* src = w + values[i] * dim;
                    if (psw is null) RowVectors<T>.Add(row, src, dim);
                    else RowVectors<T>.AddScaled(row, src, psw[i], dim);
                }
                if (mode == EmbeddingBagMode.Mean && count > 1) RowVectors<T>.Divide(row, T.CreateChecked(count), dim);
            }
        });
    }

    /// <summary>
    /// The table's gradient (zeroed, [rows, dim]) from the output's <paramref name="grad"/> [bags, dim]: each entry's row
    /// gets its bag's gradient scaled as the forward scaled it (max: only the column's winning row).
    /// </summary>
    public static void WeightGradient(T* grad, int dim, long[] starts, long[] ends, long[] values, long pad, T* perSample, EmbeddingBagMode mode, int* argmax, T* weightGrad)
    {
        // Bags write into shared rows, so one thread: the work is a pass over the bags' gradient rows.
        for (int b = 0; b < starts.Length; b++)
        {
            T* g = grad + (long)b * dim;
            if (mode == EmbeddingBagMode.Max)
            {
                int* winners = argmax + (long)b * dim;
                for (int d = 0; d < dim; d++)
                    if (winners[d] >= 0) weightGrad[(long)winners[d] * dim + d] += g[d];
                continue;
            }
            T scale = T.One;
            if (mode == EmbeddingBagMode.Mean)
            {
                int count = 0;
                for (long i = starts[b]; i < ends[b]; i++) if (values[i] != pad) count++;
                if (count > 1) scale = T.One / T.CreateChecked(count);
            }
            for (long i = starts[b]; i < ends[b]; i++)
            {
                if (values[i] == pad) continue;
                RowVectors<T>.AddScaled(weightGrad + values[i] * dim, g, perSample is null ? scale : perSample[i], dim);
            }
        }
    }

    /// <summary>The per-entry weights' gradient: each entry's table row dotted with its bag's output gradient (0 for padding).</summary>
    public static void PerSampleGradient(T* grad, T* weight, int dim, long[] starts, long[] ends, long[] values, long pad, T* result)
    {
        T* g = grad, w = weight, r = result;
        Threads.For(starts.Length, Grain(starts, ends, dim), (from, to) =>
        {
            for (long b = from; b < to; b++)
                for (long i = starts[b]; i < ends[b]; i++)
                    r[i] = values[i] == pad ? T.Zero : RowVectors<T>.Dot(g + b * dim, w + values[i] * dim, dim);
        });
    }

    /// <summary>Bags per thread's share: about 16K table values read, so small batches stay on one thread.</summary>
    static long Grain(long[] starts, long[] ends, int dim)
    {
        int bags = starts.Length;
        long entries = bags == 0 ? 0 : ends[bags - 1] - starts[0];
        long perBag = Math.Max(1, entries / Math.Max(1, bags)) * Math.Max(1, dim);
        return Math.Max(1, 16384 / perBag);
    }

    static void MaxBag(T* weight, int dim, long start, long end, long[] values, long pad, T* row, int* winners)
    {
        new Span<int>(winners, dim).Fill(-1);
        bool first = true;
        for (long i = start; i < end; i++)
        {
            long v = values[i];
            if (v == pad) continue;
            T* src = weight + v * dim;
            for (int d = 0; d < dim; d++)
                if (first || src[d] > row[d]) { row[d] = src[d]; winners[d] = (int)v; }
            first = false;
        }
    }
}
