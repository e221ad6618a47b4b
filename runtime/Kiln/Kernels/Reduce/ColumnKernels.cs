using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Reduce;

/// <summary>
/// Sums over the leading dims of a contiguous tensor (bias and norm-weight gradients: [rows, cols] → [cols]) by adding
/// whole rows into double accumulators — no transpose, every element read once in order. A gate (a compiled
/// Linear+ReLU's output) sums only where it is positive, scaled: the bias gradient of the pre-activation without
/// writing that gradient out.
/// </summary>
internal static unsafe class ColumnKernels
{
    const int Block = 512;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sum(float* x, float* y, long rows, long cols, float* gate = null, float scale = 1)
    {
        long blocks = (cols + Block - 1) / Block;
        Threads.For(blocks, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b0, b1) =>
        {
            double* acc = stackalloc double[Block];
            for (long b = b0; b < b1; b++)
            {
                long c0 = b * Block;
                int w = (int)Math.Min(Block, cols - c0);
                new Span<double>(acc, w).Clear();
                for (long r = 0; r < rows; r++)
                {
                    float* row = x + r * cols + c0;
                    float* g = gate == null ? null : gate + r * cols + c0;
                    int j = 0;
                    if (Vector256.IsHardwareAccelerated)
                        for (; j <= w - 8; j += 8)
                        {
                            var v = Vector256.Load(row + j);
                            if (g != null) v = Kiln.Kernels.Gemm.GemmGate.Gated(v, Vector256.Load(g + j), Vector256.Create(scale));
                            var (lo, hi) = Vector256.Widen(v);
                            (Vector256.Load(acc + j) + lo).Store(acc + j);
                            (Vector256.Load(acc + j + 4) + hi).Store(acc + j + 4);
                        }
                    for (; j < w; j++) acc[j] += g == null ? row[j] : g[j] > 0 ? row[j] * scale : 0f;
                }
                for (int j = 0; j < w; j++) y[c0 + j] = (float)acc[j];
            }
        });
    }
}
