using System;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Gemm;

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
            {
                var rows = new RowWalk(tables[r], past[r], h, kvHeads, d, blockSize);
                for (int i = 0; i < n; i++, rows.Next())
                    src.Slice(((r * kvHeads + h) * n + i) * d, d).CopyTo(pool.Slice((int)rows.Offset, d));
            }
    }

    /// <summary>
    /// softmax(q·kᵀ·scale) v for every row r, head h and new token i of <paramref name="q"/> [batch, heads, n, d]: the keys
    /// are row r's positions 0 .. past[r] + i (the last <paramref name="window"/> of them when the layer slides), read
    /// from kv head h / (heads / kv heads). Writes <paramref name="output"/> [batch, heads, n, d] (both contiguous float32).
    /// Keys and values are float32 or bfloat16 (a bf16 model's cache, widened as it is read: no float32 copy of the past).
    /// </summary>
    public static unsafe void Attend(Tensor q, Tensor keys, Tensor values, int[][] tables, int[] past, int n, int heads, int kvHeads, int d,
        int blockSize, int? window, float scale, Tensor output)
    {
        var job = new AttendJob
        {
            Q = q.Ptr<float>(),
            Output = output.Ptr<float>(),
            Keys = keys.Ptr<byte>(),
            Values = values.Ptr<byte>(),
            Tables = tables,
            Past = past,
            N = n,
            Heads = heads,
            KvHeads = kvHeads,
            D = d,
            BlockSize = blockSize,
            Window = window,
            Scale = scale,
        };
        foreach (int p in past) job.Longest = Math.Max(job.Longest, p + n);
        Action<long, long> run = keys.DType == DType.BFloat16 ? job.Run<BFloat16Elements> : job.Run<Float32Elements>;
        Threads.For((long)tables.Length * heads * n, Math.Max(1, 4096 / Math.Max(1, job.Longest)), run);
    }

    /// <summary>One attention call's operands, shared by the threads that split its (row, head, token) tasks.</summary>
    sealed unsafe class AttendJob
    {
        public float* Q, Output;
        public byte* Keys, Values;
        public int[][] Tables = [];
        public int[] Past = [];
        public int N, Heads, KvHeads, D, BlockSize, Longest;
        public int? Window;
        public float Scale;

        public void Run<TW>(long start, long end) where TW : struct, IWeightElements
        {
            var pooled = System.Buffers.ArrayPool<float>.Shared.Rent(Math.Max(1, Longest));
            fixed (float* scores = pooled)
                Tasks<TW>(start, end, scores);
            System.Buffers.ArrayPool<float>.Shared.Return(pooled);
        }

        void Tasks<TW>(long start, long end, float* scores) where TW : struct, IWeightElements
        {
            int n = N, d = D, group = Heads / KvHeads;
            for (long task = start; task < end; task++)
            {
                int i = (int)(task % n), h = (int)(task / n % Heads), r = (int)(task / n / Heads);
                int kv = h / group, last = Past[r] + i, first = Window is int w ? Math.Max(0, last - w + 1) : 0, count = last - first + 1;
                float* qv = Q + task * d;
                // Positions four at a time (q and the output row read once per four keys or values), walked block by block
                // (a division per position cost as much as its dot product): decode attention at batch 8 over 41 positions
                // 85 → 70 µs a layer.
                var rows = new RowWalk(Tables[r], first, kv, KvHeads, d, BlockSize);
                int j = 0;
                for (; j + 4 <= count; j += 4)
                {
                    long o0 = rows.Offset; rows.Next(); long o1 = rows.Offset; rows.Next(); long o2 = rows.Offset; rows.Next(); long o3 = rows.Offset; rows.Next();
                    (WeightRows.Dot4<TW>(qv, Row<TW>(Keys, o0), Row<TW>(Keys, o1), Row<TW>(Keys, o2), Row<TW>(Keys, o3), d) * Scale).Store(scores + j);
                }
                for (; j < count; j++, rows.Next()) scores[j] = WeightRows.Dot<TW>(qv, Row<TW>(Keys, rows.Offset), d) * Scale;
                // The row's softmax in place, vectorised (exp element by element through MathF cost as much as both products).
                Kiln.Kernels.Reduce.RowKernels.Softmax(scores, scores, count, log: false);
                float* o = Output + task * d;
                new Span<float>(o, d).Clear();
                rows = new RowWalk(Tables[r], first, kv, KvHeads, d, BlockSize);
                for (j = 0; j + 4 <= count; j += 4)
                {
                    long o0 = rows.Offset; rows.Next(); long o1 = rows.Offset; rows.Next(); long o2 = rows.Offset; rows.Next(); long o3 = rows.Offset; rows.Next();
                    WeightRows.MultiplyAdd4<TW>(Row<TW>(Values, o0), Row<TW>(Values, o1), Row<TW>(Values, o2), Row<TW>(Values, o3), Vector128.Load(scores + j), o, d);
                }
                for (; j < count; j++, rows.Next()) WeightRows.MultiplyAdd<TW>(Row<TW>(Values, rows.Offset), scores[j], o, d);
            }
        }

        /// <summary>The row at element offset <paramref name="offset"/> of a pool stored as <typeparamref name="TW"/>.</summary>
        static byte* Row<TW>(byte* pool, long offset) where TW : struct, IWeightElements => pool + offset * TW.Size;
    }

    /// <summary>Element offsets of one kv head's rows for consecutive positions of a sequence, through its block table.</summary>
    struct RowWalk(int[] table, int pos, int head, int kvHeads, int d, int blockSize)
    {
        int _block = pos / blockSize, _inBlock = pos % blockSize;

        /// <summary>The current position's row.</summary>
        public readonly long Offset => (((long)table[_block] * kvHeads + head) * blockSize + _inBlock) * d;

        /// <summary>Moves to the next position.</summary>
        public void Next()
        {
            if (++_inBlock == blockSize) { _inBlock = 0; _block++; }
        }
    }
}
