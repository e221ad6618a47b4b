using System;
using System.Collections.Concurrent;
using System.Numerics;

namespace Kiln.Kernels.Spectral;

/// <summary>
/// Row-wise transforms over contiguous host buffers of float or double: complex rows [rows, n, 2] (interleaved real and
/// imaginary parts) to complex rows, and real rows [rows, n] to their half spectra [rows, n/2 + 1, 2]. Rows go through
/// the plan in blocks side by side in vector registers — eight float32 rows in float32 lanes (PyTorch's precision, twice
/// the rows of float64 lanes), four rows of float64 in float64 lanes — and the rest one at a time in float64; blocks
/// are shared out over threads, each with its own buffers.
/// </summary>
internal static unsafe class FftRows
{
    static readonly ConcurrentDictionary<int, Complex[]> HalfTwiddles = new();

    /// <summary>scale · DFT (inverse: e^{+}) of each complex row.</summary>
    public static void Complex<T>(T* src, T* dst, long rows, int n, bool inverse, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = FftPlan.For(n);
        if (typeof(T) == typeof(float) && EightFloatRows.Supported)
            ForRowBlocks(rows, 8, n, (r0, count) =>
            {
                if (count == 8) ComplexBlock<VectorLanes<float>, EightFloatRows, float>((float*)src, (float*)dst, r0, n, plan, inverse, scale);
                else ComplexBlock<ComplexLane, OneRow<T>, T>(src, dst, r0, n, plan, inverse, scale);
            });
        else
            ForRowBlocks(rows, 4, n, (r0, count) =>
            {
                if (count == 4) ComplexBlock<VectorLanes<double>, FourRows<T>, T>(src, dst, r0, n, plan, inverse, scale);
                else ComplexBlock<ComplexLane, OneRow<T>, T>(src, dst, r0, n, plan, inverse, scale);
            });
    }

    static void ComplexBlock<TLane, TBlock, T>(T* src, T* dst, long r0, int n, FftPlan plan, bool inverse, double scale)
        where TLane : struct, IFftLane<TLane> where TBlock : IFftRowBlock<TLane, T> where T : unmanaged
    {
        var (input, output, scratch) = Buffers<TLane>.Get(n, plan.ScratchLength);
        long stride = 2L * n;
        TBlock.LoadPairs(src + r0 * stride, stride, n, input);
        plan.Transform<TLane>(input.AsSpan(0, n), output.AsSpan(0, n), inverse, scratch);
        TBlock.StorePairs(dst + r0 * stride, stride, n, scale, output);
    }

    /// <summary>
    /// scale · the first n/2 + 1 bins of the forward DFT of each real row. An even n transforms the row as n/2 complex
    /// points (even samples real, odd imaginary) and separates the two halves' spectra; an odd n runs the complex plan.
    /// </summary>
    public static void Real<T>(T* src, T* dst, long rows, int n, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool packed = n % 2 == 0 && n >= 4;
        var plan = FftPlan.For(packed ? n / 2 : n);
        var w = HalfTwiddles.GetOrAdd(n, static size =>
        {
            var t = new Complex[size / 2 + 1];
            for (int k = 0; k < t.Length; k++) t[k] = System.Numerics.Complex.FromPolarCoordinates(1, -2 * Math.PI * k / size);
            return t;
        });
        if (typeof(T) == typeof(float) && EightFloatRows.Supported)
            ForRowBlocks(rows, 8, n, (r0, count) =>
            {
                if (count == 8) RealBlock<VectorLanes<float>, EightFloatRows, float>((float*)src, (float*)dst, r0, n, packed, plan, w, scale);
                else RealBlock<ComplexLane, OneRow<T>, T>(src, dst, r0, n, packed, plan, w, scale);
            });
        else
            ForRowBlocks(rows, 4, n, (r0, count) =>
            {
                if (count == 4) RealBlock<VectorLanes<double>, FourRows<T>, T>(src, dst, r0, n, packed, plan, w, scale);
                else RealBlock<ComplexLane, OneRow<T>, T>(src, dst, r0, n, packed, plan, w, scale);
            });
    }

    static void RealBlock<TLane, TBlock, T>(T* src, T* dst, long r0, int n, bool packed, FftPlan plan, Complex[] w, double scale)
        where TLane : struct, IFftLane<TLane> where TBlock : IFftRowBlock<TLane, T> where T : unmanaged
    {
        int len = plan.N, bins = n / 2 + 1;
        var (input, output, scratch) = Buffers<TLane>.Get(Math.Max(len, bins), plan.ScratchLength);
        if (packed) TBlock.LoadPairs(src + r0 * n, n, len, input);
        else TBlock.LoadReals(src + r0 * n, n, len, input);
        var spectrum = HalfSpectrum(plan, w, packed, len, bins, input, output, scratch);
        TBlock.StorePairs(dst + r0 * 2L * bins, 2L * bins, bins, scale, spectrum);
    }

    /// <summary>The bins 0..n/2 of a real row loaded into <paramref name="input"/> (packed: even samples real, odd imaginary), written over the input buffer.</summary>
    static TLane[] HalfSpectrum<TLane>(FftPlan plan, Complex[] w, bool packed, int len, int bins, TLane[] input, TLane[] output, TLane[] scratch)
        where TLane : struct, IFftLane<TLane>
    {
        plan.Transform<TLane>(input.AsSpan(0, len), output.AsSpan(0, len), false, scratch);
        for (int k = 0; k < bins; k++)
        {
            if (!packed) { input[k] = output[k]; continue; }
            // Even samples' spectrum E and odd samples' O from Z_k and conj(Z_{h−k}); X_k = E + e^{−2πik/n}·O.
            var zk = output[k % len];
            var zc = TLane.Conj(output[(len - k) % len]);
            var even = TLane.Scale(TLane.Add(zk, zc), 0.5);
            var odd = TLane.TimesI(TLane.Scale(TLane.Sub(zk, zc), 0.5), negative: true);
            input[k] = TLane.Add(even, TLane.Mul(odd, w[k]));
        }
        return input;
    }

    /// <summary>Rows in blocks of <paramref name="block"/> (then single rows) shared over threads; <paramref name="body"/>(first row, block or 1).</summary>
    static void ForRowBlocks(long rows, int block, int n, Action<long, int> body)
    {
        long blocks = rows / block, tail = rows % block;
        Threads.For(blocks + tail, Math.Max(1, 2048 / Math.Max(1, n)), (b0, b1) =>
        {
            for (long b = b0; b < b1; b++)
            {
                if (b < blocks) body(block * b, block);
                else body(block * blocks + (b - blocks), 1);
            }
        });
    }

    /// <summary>Per-thread lane buffers, grown as needed and reused across calls.</summary>
    static class Buffers<TLane> where TLane : struct, IFftLane<TLane>
    {
        [ThreadStatic] static TLane[]? _input, _output, _scratch;

        public static (TLane[] Input, TLane[] Output, TLane[] Scratch) Get(int n, int scratch)
        {
            if (_input is null || _input.Length < n) { _input = new TLane[n]; _output = new TLane[n]; }
            if (_scratch is null || _scratch.Length < scratch) _scratch = new TLane[Math.Max(scratch, 1)];
            return (_input, _output!, _scratch);
        }
    }
}
