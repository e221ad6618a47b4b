using System;
using System.Numerics.Tensors;

namespace Kiln.Transformers;

/// <summary>
/// The kernels behind <see cref="PagedBatch"/>: storing new keys/values into a sequence's blocks, and attention that
/// reads each row's keys and values through its block table (no gather into a contiguous copy). Layout per layer:
/// [blocks, kv heads, block size, head dim], so one head's positions within a block are consecutive rows — which is also
/// a <see cref="StaticKvCache"/>'s [batch, kv heads, max length, head dim] with one block per row.
/// </summary>
internal static class PagedAttention
{
    /// <summary>Copies <paramref name="src"/> [batch, kv heads, n, d] to positions past[r].. of row r's blocks.</summary>
    public static void Store(Span<float> pool, ReadOnlySpan<float> src, int[][] tables, int[] past, int n, int kvHeads, int d, int blockSize)
    {
        for (int r = 0; r < tables.Length; r++)
            for (int h = 0; h < kvHeads; h++)
                for (int i = 0; i < n; i++)
                {
                    int pos = past[r] + i;
                    src.Slice(((r * kvHeads + h) * n + i) * d, d).CopyTo(pool.Slice(Offset(tables[r], pos, h, kvHeads, d, blockSize), d));
                }
    }

    /// <summary>
    /// softmax(q·kᵀ·scale) v for every row r, head h and new token i of <paramref name="q"/> [batch, heads, n, d]: the keys
    /// are row r's positions 0 .. past[r] + i (the last <paramref name="window"/> of them when the layer slides), read
    /// from kv head h / (heads / kv heads). Writes <paramref name="output"/> [batch, heads, n, d] (both contiguous float32).
    /// </summary>
    public static void Attend(Tensor q, Tensor keys, Tensor values, int[][] tables, int[] past, int n, int heads, int kvHeads, int d,
        int blockSize, int? window, float scale, Tensor output)
    {
        int b = tables.Length, group = heads / kvHeads, longest = 0;
        foreach (int p in past) longest = Math.Max(longest, p + n);
        Threads.For((long)b * heads * n, Math.Max(1, 4096 / Math.Max(1, longest)), (start, end) =>
        {
            var scores = new float[longest];
            var query = q.AsSpan<float>();
            var result = output.AsSpan<float>();
            var ks = keys.AsSpan<float>();
            var vs = values.AsSpan<float>();
            for (long task = start; task < end; task++)
            {
                int i = (int)(task % n), h = (int)(task / n % heads), r = (int)(task / n / heads);
                int kv = h / group, last = past[r] + i, first = window is int w ? Math.Max(0, last - w + 1) : 0, count = last - first + 1;
                var qv = query.Slice((int)task * d, d);
                float max = float.NegativeInfinity;
                for (int j = 0; j < count; j++)
                {
                    float s = TensorPrimitives.Dot(qv, ks.Slice(Offset(tables[r], first + j, kv, kvHeads, d, blockSize), d)) * scale;
                    scores[j] = s;
                    if (s > max) max = s;
                }
                float sum = 0;
                for (int j = 0; j < count; j++) sum += scores[j] = MathF.Exp(scores[j] - max);
                var o = result.Slice((int)task * d, d);
                o.Clear();
                for (int j = 0; j < count; j++)
                    TensorPrimitives.MultiplyAdd(vs.Slice(Offset(tables[r], first + j, kv, kvHeads, d, blockSize), d), scores[j] / sum, o, o);
            }
        });
    }

    static int Offset(int[] table, int pos, int head, int kvHeads, int d, int blockSize) =>
        ((table[pos / blockSize] * kvHeads + head) * blockSize + pos % blockSize) * d;
}
