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
        int group = heads / kvHeads;
        // A thread's share: at least ~1024 query-key pairs (a decode step at batch 8 over ~40 positions splits in two, each
        // half ~20 µs: 2-thread steps 5 % faster than with 4096, which kept the whole layer's attention on one thread).
        Threads.For((long)tables.Length * kvHeads * n, Math.Max(1, 1024 / Math.Max(1, job.Longest * group)), run);
    }

    /// <summary>One attention call's operands, shared by the threads that split its (row, kv head, token) tasks.</summary>
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
            var pooled = System.Buffers.ArrayPool<float>.Shared.Rent(Math.Max(1, Longest * (Heads / KvHeads)));
            fixed (float* scores = pooled)
                Tasks<TW>(start, end, scores);
            System.Buffers.ArrayPool<float>.Shared.Return(pooled);
        }

        /// <summary>
        /// Task (r, kv, i): the query heads that share kv head kv attend together, so each key and value row is read from
        /// memory once for all of them and used from L1 by the rest (query head by query head, each head walked its
        /// row's positions anew).
        /// </summary>
        void Tasks<TW>(long start, long end, float* scores) where TW : struct, IWeightElements
        {
            int n = N, d = D, group = Heads / KvHeads, rowBytes = d * TW.Size;
            for (long task = start; task < end; task++)
            {
                var (r, kv, i, first, count) = Positions(task);
                // Query head h = kv·group + g of token i sits at ((r·heads + h)·n + i)·d, as does its output row.
                long head0 = (long)r * Heads + kv * group, headStride = (long)n * d;
                float* q0 = Q + (head0 * n + i) * d;
                // Positions four at a time (each query and output row read once per four keys or values), walked block by
                // block (a division per position cost as much as its dot product).
                var rows = new RowWalk(Tables[r], first, kv, KvHeads, d, BlockSize);
                int j = 0;
                for (; j + 4 <= count; j += 4)
                {
                    long o0 = rows.Offset; rows.Next(); long o1 = rows.Offset; rows.Next(); long o2 = rows.Offset; rows.Next(); long o3 = rows.Offset; rows.Next();
                    byte* k0 = Row<TW>(Keys, o0), k1 = Row<TW>(Keys, o1), k2 = Row<TW>(Keys, o2), k3 = Row<TW>(Keys, o3);
                    Fetch(Row<TW>(Values, o0), rowBytes); Fetch(Row<TW>(Values, o1), rowBytes); Fetch(Row<TW>(Values, o2), rowBytes); Fetch(Row<TW>(Values, o3), rowBytes);
                    for (int g = 0; g < group; g++)
                        (WeightRows.Dot4<TW>(q0 + g * headStride, k0, k1, k2, k3, d) * Scale).Store(scores + g * count + j);
                }
                for (; j < count; j++, rows.Next())
                {
                    byte* k0 = Row<TW>(Keys, rows.Offset);
                    for (int g = 0; g < group; g++) scores[g * count + j] = WeightRows.Dot<TW>(q0 + g * headStride, k0, d) * Scale;
                }
                // Each head's softmax in place, vectorised (exp element by element through MathF cost as much as both products).
                for (int g = 0; g < group; g++)
                {
                    Kiln.Kernels.Reduce.RowKernels.Softmax(scores + g * count, scores + g * count, count, log: false);
                    new Span<float>(Output + (head0 * n + i) * d + g * headStride, d).Clear();
                }
                float* out0 = Output + (head0 * n + i) * d;
                rows = new RowWalk(Tables[r], first, kv, KvHeads, d, BlockSize);
                // While the values are summed the next task's keys are fetched, as the keys' pass fetched these values: a decode
                // step reads each layer's cache from memory (the weights streamed since evict it), and the prefetcher,
                // starting anew on every short run of rows, left the loop waiting (batch 8 over 41 positions, 1 thread:
                // 116 → 70 µs a layer; grouping the heads alone saved nothing there, 31–47 → 28 µs with the cache in L2).
                int nextCount = 0;
                RowWalk next = default;
                if (task + 1 < end)
                {
                    var (r1, kv1, _, first1, count1) = Positions(task + 1);
                    nextCount = count1;
                    next = new RowWalk(Tables[r1], first1, kv1, KvHeads, d, BlockSize);
                }
                for (j = 0; j + 4 <= count; j += 4)
                {
                    long o0 = rows.Offset; rows.Next(); long o1 = rows.Offset; rows.Next(); long o2 = rows.Offset; rows.Next(); long o3 = rows.Offset; rows.Next();
                    byte* v0 = Row<TW>(Values, o0), v1 = Row<TW>(Values, o1), v2 = Row<TW>(Values, o2), v3 = Row<TW>(Values, o3);
                    for (int u = j; u < j + 4 && u < nextCount; u++, next.Next()) Fetch(Row<TW>(Keys, next.Offset), rowBytes);
                    for (int g = 0; g < group; g++)
                        WeightRows.MultiplyAdd4<TW>(v0, v1, v2, v3, Vector128.Load(scores + g * count + j), out0 + g * headStride, d);
                }
                for (; j < count; j++, rows.Next())
                {
                    byte* v0 = Row<TW>(Values, rows.Offset);
                    for (int g = 0; g < group; g++) WeightRows.MultiplyAdd<TW>(v0, scores[g * count + j], out0 + g * headStride, d);
                }
            }
        }

        /// <summary>Task (row r, kv head, token i)'s positions: the first one it attends to and how many.</summary>
        (int R, int Kv, int I, int First, int Count) Positions(long task)
        {
            int i = (int)(task % N), kv = (int)(task / N % KvHeads), r = (int)(task / N / KvHeads);
            int last = Past[r] + i, first = Window is int w ? Math.Max(0, last - w + 1) : 0;
            return (r, kv, i, first, last - first + 1);
        }

        /// <summary>Asks for the cache lines of one row ahead of its use (nothing where the CPU has no prefetch instruction).</summary>
        static void Fetch(byte* row, int bytes)
        {
            if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
            for (int b = 0; b < bytes; b += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(row + b);
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
