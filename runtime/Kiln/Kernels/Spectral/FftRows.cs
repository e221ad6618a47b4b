using System;
using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Spectral;

/// <summary>
/// Row-wise transforms over contiguous host buffers of float or double: complex rows [rows, n, 2] (interleaved real and
/// imaginary parts) to complex rows, and real rows [rows, n] to their half spectra [rows, n/2 + 1, 2]. Rows go four at a
/// time through the plan in vector registers, the rest one at a time; rows are shared out over threads, each with its
/// own float64 buffers.
/// </summary>
internal static unsafe class FftRows
{
    static readonly ConcurrentDictionary<int, Complex[]> HalfTwiddles = new();

    /// <summary>scale · DFT (inverse: e^{+}) of each complex row.</summary>
    public static void Complex<T>(T* src, T* dst, long rows, int n, bool inverse, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = FftPlan.For(n);
        long stride = 2L * n;
        ForRowBlocks(rows, n, (r0, count) =>
        {
            if (count == 4)
            {
                var (input, output, scratch) = Buffers<ComplexLanes4>.Get(n, plan.ScratchLength);
                for (int k = 0; k < n; k++) input[k] = new(Load(src, r0, stride, 2 * k), Load(src, r0, stride, 2 * k + 1));
                plan.Transform<ComplexLanes4>(input, output, inverse, scratch);
                var s = Vector256.Create(scale);
                for (int k = 0; k < n; k++) { Store(dst, r0, stride, 2 * k, output[k].Re * s); Store(dst, r0, stride, 2 * k + 1, output[k].Im * s); }
            }
            else
            {
                var (input, output, scratch) = Buffers<ComplexLane>.Get(n, plan.ScratchLength);
                T* row = src + r0 * stride;
                for (int k = 0; k < n; k++) input[k] = new(new Complex(double.CreateTruncating(row[2 * k]), double.CreateTruncating(row[2 * k + 1])));
                plan.Transform<ComplexLane>(input, output, inverse, scratch);
                T* o = dst + r0 * stride;
                for (int k = 0; k < n; k++)
                {
                    o[2 * k] = T.CreateTruncating(output[k].Value.Real * scale);
                    o[2 * k + 1] = T.CreateTruncating(output[k].Value.Imaginary * scale);
                }
            }
        });
    }

    /// <summary>
    /// scale · the first n/2 + 1 bins of the forward DFT of each real row. An even n transforms the row as n/2 complex
    /// points (even samples real, odd imaginary) and separates the two halves' spectra; an odd n runs the complex plan.
    /// </summary>
    public static void Real<T>(T* src, T* dst, long rows, int n, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int bins = n / 2 + 1;
        bool packed = n % 2 == 0 && n >= 4;
        int len = packed ? n / 2 : n;
        var plan = FftPlan.For(len);
        var w = HalfTwiddles.GetOrAdd(n, static size =>
        {
            var t = new Complex[size / 2 + 1];
            for (int k = 0; k < t.Length; k++) t[k] = System.Numerics.Complex.FromPolarCoordinates(1, -2 * Math.PI * k / size);
            return t;
        });
        long outStride = 2L * bins;
        ForRowBlocks(rows, n, (r0, count) =>
        {
            if (count == 4)
            {
                var (input, output, scratch) = Buffers<ComplexLanes4>.Get(Math.Max(len, bins), plan.ScratchLength);
                if (packed) for (int k = 0; k < len; k++) input[k] = new(Load(src, r0, n, 2 * k), Load(src, r0, n, 2 * k + 1));
                else for (int k = 0; k < len; k++) input[k] = new(Load(src, r0, n, k), Vector256<double>.Zero);
                var spectrum = HalfSpectrum(plan, w, packed, len, bins, scale, input, output, scratch);
                for (int k = 0; k < bins; k++) { Store(dst, r0, outStride, 2 * k, spectrum[k].Re); Store(dst, r0, outStride, 2 * k + 1, spectrum[k].Im); }
            }
            else
            {
                var (input, output, scratch) = Buffers<ComplexLane>.Get(Math.Max(len, bins), plan.ScratchLength);
                T* row = src + r0 * n;
                if (packed) for (int k = 0; k < len; k++) input[k] = new(new Complex(double.CreateTruncating(row[2 * k]), double.CreateTruncating(row[2 * k + 1])));
                else for (int k = 0; k < len; k++) input[k] = new(new Complex(double.CreateTruncating(row[k]), 0));
                var spectrum = HalfSpectrum(plan, w, packed, len, bins, scale, input, output, scratch);
                T* o = dst + r0 * outStride;
                for (int k = 0; k < bins; k++) { o[2 * k] = T.CreateTruncating(spectrum[k].Value.Real); o[2 * k + 1] = T.CreateTruncating(spectrum[k].Value.Imaginary); }
            }
        });
    }

    /// <summary>The scaled bins 0..n/2 of a real row loaded into <paramref name="input"/> (packed: even samples real, odd imaginary), written over the input buffer.</summary>
    static TLane[] HalfSpectrum<TLane>(FftPlan plan, Complex[] w, bool packed, int len, int bins, double scale, TLane[] input, TLane[] output, TLane[] scratch)
        where TLane : struct, IFftLane<TLane>
    {
        plan.Transform<TLane>(input.AsSpan(0, len), output.AsSpan(0, len), false, scratch);
        for (int k = 0; k < bins; k++)
        {
            if (!packed) { input[k] = TLane.Scale(output[k], scale); continue; }
            // Even samples' spectrum E and odd samples' O from Z_k and conj(Z_{h−k}); X_k = E + e^{−2πik/n}·O.
            var zk = output[k % len];
            var zc = TLane.Conj(output[(len - k) % len]);
            var even = TLane.Scale(TLane.Add(zk, zc), 0.5);
            var odd = TLane.TimesI(TLane.Scale(TLane.Sub(zk, zc), 0.5), negative: true);
            input[k] = TLane.Scale(TLane.Add(even, TLane.Mul(odd, w[k])), scale);
        }
        return input;
    }

    /// <summary>Rows in blocks of four (then single rows) shared over threads; <paramref name="body"/>(first row, 1 or 4).</summary>
    static void ForRowBlocks(long rows, int n, Action<long, int> body)
    {
        long blocks = rows / 4, tail = rows % 4;
        Threads.For(blocks + tail, Math.Max(1, 2048 / Math.Max(1, n)), (b0, b1) =>
        {
            for (long b = b0; b < b1; b++)
            {
                if (b < blocks) body(4 * b, 4);
                else body(4 * blocks + (b - blocks), 1);
            }
        });
    }

    /// <summary>Element <paramref name="offset"/> of rows r0..r0+3 (<paramref name="stride"/> elements apart) as a vector of doubles.</summary>
    static Vector256<double> Load<T>(T* src, long r0, long stride, int offset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = src + r0 * stride + offset;
        return Vector256.Create(double.CreateTruncating(p[0]), double.CreateTruncating(p[stride]), double.CreateTruncating(p[2 * stride]), double.CreateTruncating(p[3 * stride]));
    }

    static void Store<T>(T* dst, long r0, long stride, int offset, Vector256<double> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = dst + r0 * stride + offset;
        p[0] = T.CreateTruncating(v[0]); p[stride] = T.CreateTruncating(v[1]); p[2 * stride] = T.CreateTruncating(v[2]); p[3 * stride] = T.CreateTruncating(v[3]);
    }

    /// <summary>Per-thread float64 buffers, grown as needed and reused across calls.</summary>
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
