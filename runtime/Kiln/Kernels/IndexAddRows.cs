using System;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels;

/// <summary>
/// index_add of float32 slices: dst[index[r], :] += src[r, :] along dim 0 (an embedding table's gradient), or along any
/// dim of [outer, size, inner] views (<c>torch.index_add</c>). Threads split the columns, so rows that share an index never race. Through the general scatter_add (an int64 index expanded to
/// src's shape, then element by element) a [1024, 256] gradient into [2048, 256] took 1.4 ms.
/// </summary>
internal static unsafe class IndexAddRows
{
    const int Block = 1024;

    /// <summary>dst [.., cols] += src [n, cols] at rows <paramref name="index"/>[0..n), each already in range.</summary>
    public static void Run(float* dst, float* src, long* index, long n, long cols) => Run(dst, src, index, 1, 0, n, cols, 1f);

    /// <summary>
    /// index_add along any dim, the tensors seen as [outer, size, inner]: dst[o, index[r], :] += alpha · src[o, r, :] for
    /// r &lt; <paramref name="n"/>, each index already in [0, <paramref name="dstSize"/>). Threads take (o, column block)
    /// pairs, which never share a destination element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* dst, float* src, long* index, long outer, long dstSize, long n, long inner, float alpha)
    {
        long blocks = (inner + Block - 1) / Block;
        // Few columns per row: a share takes several outer rows, so small slices do not each cost a parallel region.
        long grain = Math.Max(1, 16384 / Math.Max(1, n * Math.Min(inner, Block)));
        Threads.For(outer * blocks, grain, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (u0, u1) =>
        {
            for (long u = u0; u < u1; u++)
            {
                long o = u / blocks, c0 = u % blocks * Block;
                int w = (int)Math.Min(Block, inner - c0);
                float* to = dst + o * dstSize * inner + c0, from = src + o * n * inner + c0;
                for (long r = 0; r < n; r++)
                {
                    if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) AddRow<Lanes512>(to + index[r] * inner, from + r * inner, w, alpha);
                    else AddRow<Lanes256>(to + index[r] * inner, from + r * inner, w, alpha);
                }
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddRow<TV>(float* to, float* from, int w, float alpha) where TV : struct, IFloatLanes<TV>
    {
        int j = 0;
        if (alpha == 1f)
        {
            for (; j <= w - TV.Count; j += TV.Count) TV.Store(TV.Add(TV.Load(to + j), TV.Load(from + j)), to + j);
            for (; j < w; j++) to[j] += from[j];
            return;
        }
        var a = TV.Splat(alpha);
        for (; j <= w - TV.Count; j += TV.Count) TV.Store(TV.Fma(TV.Load(from + j), a, TV.Load(to + j)), to + j);
        for (; j < w; j++) to[j] += alpha * from[j];
    }
}
