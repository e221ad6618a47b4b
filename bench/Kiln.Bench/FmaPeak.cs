using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;

/// <summary>
/// The machine's float32 FMA peak, measured: independent fused multiply-adds on registers (no memory), the widest
/// vectors the JIT accelerates, on 1 or more threads at once. GEMM rows print it beside their GFLOP/s.
/// </summary>
static class FmaPeak
{
    const int Iterations = 20_000_000;

    /// <summary>GFLOP/s of <paramref name="threads"/> threads each running the FMA loop; the best of three tries.</summary>
    public static double Measure(int threads)
    {
        double best = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            using var start = new Barrier(threads + 1);
            var workers = new Thread[threads];
            for (int i = 0; i < threads; i++)
            {
                workers[i] = new Thread(() => { start.SignalAndWait(); Loop(); });
                workers[i].Start();
            }
            start.SignalAndWait();
            var sw = Stopwatch.StartNew();
            foreach (var w in workers) w.Join();
            double flops = 2.0 * Lanes * Accumulators * (double)Iterations * threads;
            best = Math.Max(best, flops / sw.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    const int Accumulators = 12;   // enough independent chains to cover the FMA latency on two ports

    static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Loop() => Vector512.IsHardwareAccelerated ? Loop<V512>() : Loop<V256>();

    /// <summary>Twelve independent FMA chains per iteration, written once for both widths.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static float Loop<TV>() where TV : struct, IVector<TV>
    {
        var m = TV.Splat(0.999999f);
        var a = TV.Splat(1e-7f);
        TV c0 = m, c1 = m, c2 = m, c3 = m, c4 = m, c5 = m, c6 = m, c7 = m, c8 = m, c9 = m, c10 = m, c11 = m;
        for (int i = 0; i < Iterations; i++)
        {
            c0 = TV.Fma(c0, m, a); c1 = TV.Fma(c1, m, a); c2 = TV.Fma(c2, m, a); c3 = TV.Fma(c3, m, a);
            c4 = TV.Fma(c4, m, a); c5 = TV.Fma(c5, m, a); c6 = TV.Fma(c6, m, a); c7 = TV.Fma(c7, m, a);
            c8 = TV.Fma(c8, m, a); c9 = TV.Fma(c9, m, a); c10 = TV.Fma(c10, m, a); c11 = TV.Fma(c11, m, a);
        }
        return TV.Sum(c0) + TV.Sum(c1) + TV.Sum(c2) + TV.Sum(c3) + TV.Sum(c4) + TV.Sum(c5) + TV.Sum(c6) + TV.Sum(c7) + TV.Sum(c8) + TV.Sum(c9) + TV.Sum(c10) + TV.Sum(c11);
    }

    interface IVector<TSelf> where TSelf : struct, IVector<TSelf>
    {
        static abstract TSelf Splat(float v);
        static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);
        static abstract float Sum(TSelf v);
    }

    readonly struct V256(Vector256<float> v) : IVector<V256>
    {
        readonly Vector256<float> _v = v;
        public static V256 Splat(float v) => new(Vector256.Create(v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Fma(V256 a, V256 b, V256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
        public static float Sum(V256 v) => Vector256.Sum(v._v);
    }

    readonly struct V512(Vector512<float> v) : IVector<V512>
    {
        readonly Vector512<float> _v = v;
        public static V512 Splat(float v) => new(Vector512.Create(v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Fma(V512 a, V512 b, V512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
        public static float Sum(V512 v) => Vector512.Sum(v._v);
    }
}
