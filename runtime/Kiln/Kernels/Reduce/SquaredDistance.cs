using System;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels.Reduce;

/// <summary>
/// Σ (a - b)² over two contiguous arrays in one pass (mse_loss's forward): vector lanes within blocks, block totals in
/// double, blocks spread over threads and added in block order (the same result on any thread count).
/// </summary>
internal static unsafe class SquaredDistance
{
    /// <summary>Elements per block: one block's lanes stay short sums, its total goes to double.</summary>
    const int Block = 16384;

    public static double Of(float* a, float* b, long n) => Blocks(n, (from, to) => Vector(a, b, from, to));

    public static double Of(double* a, double* b, long n) => Blocks(n, (from, to) =>
    {
        double s = 0;
        for (long i = from; i < to; i++) { double d = a[i] - b[i]; s += d * d; }
        return s;
    });

    static double Blocks(long n, Func<long, long, double> block)
    {
        long blocks = (n + Block - 1) / Block;
        if (blocks <= 1) return n == 0 ? 0 : block(0, n);
        var totals = new double[blocks];
        Threads.For(blocks, 8, (b0, b1) =>
        {
            for (long k = b0; k < b1; k++) totals[k] = block(k * Block, Math.Min(n, (k + 1) * Block));
        });
        double s = 0;
        foreach (var t in totals) s += t;
        return s;
    }

    static double Vector(float* a, float* b, long from, long to) =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? Vector<Lanes512>(a, b, from, to) : Vector<Lanes256>(a, b, from, to);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static double Vector<TV>(float* a, float* b, long from, long to) where TV : struct, IFloatLanes<TV>
    {
        int w = TV.Count;
        var s0 = TV.Splat(0); var s1 = s0;
        long i = from;
        for (; i <= to - 2 * w; i += 2 * w)
        {
            var d0 = TV.Sub(TV.Load(a + i), TV.Load(b + i));
            var d1 = TV.Sub(TV.Load(a + i + w), TV.Load(b + i + w));
            s0 = TV.Fma(d0, d0, s0);
            s1 = TV.Fma(d1, d1, s1);
        }
        for (; i <= to - w; i += w)
        {
            var d = TV.Sub(TV.Load(a + i), TV.Load(b + i));
            s0 = TV.Fma(d, d, s0);
        }
        double s = TV.ReduceSum(TV.Add(s0, s1));
        for (; i < to; i++) { double d = a[i] - b[i]; s += d * d; }
        return s;
    }
}
