using System;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels;

/// <summary>
/// index_add along dim 0 of float32 rows: dst[index[r], :] += src[r, :] — an embedding table's gradient. Threads split
/// the columns, so rows that share an index never race. Through the general scatter_add (an int64 index expanded to
/// src's shape, then element by element) a [1024, 256] gradient into [2048, 256] took 1.4 ms.
/// </summary>
internal static unsafe class IndexAddRows
{
    const int Block = 1024;

    /// <summary>dst [.., cols] += src [n, cols] at rows <paramref name="index"/>[0..n), each already in range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* dst, float* src, long* index, long n, long cols)
    {
        long blocks = (cols + Block - 1) / Block;
        Threads.For(blocks, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b0, b1) =>
        {
            for (long b = b0; b < b1; b++)
            {
                long c0 = b * Block;
                int w = (int)Math.Min(Block, cols - c0);
                for (long r = 0; r < n; r++)
                {
                    if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) AddRow<Lanes512>(dst + index[r] * cols + c0, src + r * cols + c0, w);
                    else AddRow<Lanes256>(dst + index[r] * cols + c0, src + r * cols + c0, w);
                }
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddRow<TV>(float* to, float* from, int w) where TV : struct, IFloatLanes<TV>
    {
        int j = 0;
        for (; j <= w - TV.Count; j += TV.Count) TV.Store(TV.Add(TV.Load(to + j), TV.Load(from + j)), to + j);
        for (; j < w; j++) to[j] += from[j];
    }
}
