using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Quantization.Kernels;

/// <summary>
/// One weight format's tile of the few-rows product: two weight rows' columns [c0, c0 + width) against up to eight input
/// rows, looked up or widened once and shared by every input row.
/// </summary>
internal unsafe interface IRowPairTile
{
    /// <summary>Bytes of one packed weight row.</summary>
    long RowBytes { get; }

    /// <summary>Where column <paramref name="c0"/> of row <paramref name="j"/> lies, and how many bytes <paramref name="width"/> columns take.</summary>
    (long Offset, int Bytes) Span(long j, int c0, int width);

    /// <summary>Columns a chunk boundary must fall on (a quantization block, a vector).</summary>
    int Granule { get; }

    /// <summary>
    /// acc[2r] = row <paramref name="j"/>'s dot product with input row r over the columns (scaled), acc[2r + 1] the same for
    /// row j + 1 when <paramref name="pair"/>; <paramref name="rows"/> is the prepared input (<paramref name="ld"/> floats a row).
    /// </summary>
    void Run(int m, int ld, int c0, int width, float* rows, long j, bool pair, float* acc);
}

/// <summary>
/// The few-rows (decode-shaped) product y = x·Wᵀ over a quantized W, written once for every format: K in chunks whose
/// input rows fit L1 together (8 rows × 1024 columns = 32 KiB; whole rows came from L2 at every weight row before),
/// weight rows two at a time (one input load feeds two FMAs), the next pair's chunk prefetched (a chunk of a row is a short
/// run a row apart, which the hardware prefetcher does not follow), chunk sums added into y.
/// </summary>
internal static unsafe class FewRowsProduct
{
    /// <summary>Input rows up to which the fused products run (their tiles hold two accumulators per row and weight row at most).</summary>
    public const int MaxRows = 8;

    /// <summary>Output columns [j0, j1) of y [m, n] (bias added when given).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TTile>(in TTile tile, int m, int n, int k, int ld, float* rows, byte* weights, float* bias, float* y, long j0, long j1)
        where TTile : struct, IRowPairTile
    {
        int granule = tile.Granule;
        int chunk = Math.Max(granule, 8192 / m / granule * granule);
        for (int r = 0; r < m; r++)
            for (long j = j0; j < j1; j++) y[(long)r * n + j] = bias is null ? 0 : bias[j];
        float* acc = stackalloc float[2 * MaxRows];
        for (int c0 = 0; c0 < k; c0 += chunk)
        {
            int width = Math.Min(chunk, k - c0);
            for (long j = j0; j < j1; j += 2)
            {
                if (j + 3 < j1)
                {
                    var (offset, bytes) = tile.Span(j + 2, c0, width);
                    byte* ahead = weights + offset;
                    for (int line = 0; line < bytes; line += 64) { Sse.Prefetch0(ahead + line); Sse.Prefetch0(ahead + tile.RowBytes + line); }
                }
                // An odd last row runs alone (the tile reads it twice and keeps one sum).
                bool pair = j + 1 < j1;
                tile.Run(m, ld, c0, width, rows, j, pair, acc);
                for (int r = 0; r < m; r++)
                {
                    y[(long)r * n + j] += acc[2 * r];
                    if (pair) y[(long)r * n + j + 1] += acc[2 * r + 1];
                }
            }
        }
    }

    /// <summary>
    /// A pooled buffer for <paramref name="floats"/> prepared input floats and its 64-byte-aligned start (every 512-bit
    /// load then reads one cache line). Pooled: from six rows of K = 4096 a fresh buffer is a large-object allocation,
    /// which cost more than the product itself at small n (0.4 ms for 8 rows). Return it with <see cref="Return"/>.
    /// </summary>
    public static float[] Rent(int floats) => ArrayPool<float>.Shared.Rent(floats + 16);

    /// <summary>The 64-byte-aligned start of a pinned <see cref="Rent"/> buffer.</summary>
    public static float* Aligned(float* pinned) => (float*)(((nint)pinned + 63) & ~(nint)63);

    /// <summary>Gives a <see cref="Rent"/> buffer back.</summary>
    public static void Return(float[] buffer) => ArrayPool<float>.Shared.Return(buffer);

    /// <summary>
    /// Row stride for <paramref name="floats"/> prepared floats per input row: one cache line more than a multiple of
    /// 16, so that 8–16 streams of a deep K (rows 16 KiB apart at K = 4096) fall in different L1 sets.
    /// </summary>
    public static int Stride(int floats) => (floats + 15) / 16 * 16 + 16;
}
