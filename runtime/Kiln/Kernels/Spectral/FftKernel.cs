using System;
using System.Collections.Concurrent;
using System.Numerics;

namespace Kiln.Kernels.Spectral;

/// <summary>
/// A planned discrete Fourier transform of length n (twiddles in float64, rounded by float32 lanes): X_k = Σ_j x_j·e^{∓2πi·jk/n} (forward −, inverse +),
/// unscaled. Lengths whose prime factors are small run a mixed-radix Cooley–Tukey recursion (radix 4, 2, 3 and 5 by
/// hand, other factors by a general butterfly) over a table of the n twiddles, computed once per length and cached;
/// a length with a prime factor above 31 runs Bluestein's chirp-z identity over a power-of-two plan. Written once over
/// <see cref="IFftLane{T}"/>: one row, or a block of rows in vector registers.
/// </summary>
internal sealed class FftPlan
{
    static readonly ConcurrentDictionary<int, FftPlan> Cache = new();

    /// <summary>The plan for length <paramref name="n"/> (built once, shared by every thread).</summary>
    public static FftPlan For(int n) => Cache.GetOrAdd(n, static k => new FftPlan(k));

    public int N { get; }
    readonly Complex[] _forward;   // e^{-2πik/n}
    readonly Complex[] _inverse;   // e^{+2πik/n}
    readonly int[] _factors;       // radix, remaining length, radix, remaining length, ...
    readonly BluesteinPlan? _bluestein;

    FftPlan(int n)
    {
        N = n;
        _forward = new Complex[n];
        _inverse = new Complex[n];
        for (int k = 0; k < n; k++)
        {
            double angle = -2 * Math.PI * k / n;
            _forward[k] = new Complex(Math.Cos(angle), Math.Sin(angle));
            _inverse[k] = Complex.Conjugate(_forward[k]);
        }
        _factors = Factor(n, out int largest);
        if (largest > 31) _bluestein = new BluesteinPlan(n);
    }

    /// <summary>Scratch a caller passes to <see cref="Transform{T}"/>: none, or Bluestein's buffers.</summary>
    public int ScratchLength => _bluestein?.ScratchLength ?? 0;

    /// <summary>Writes the transform of <paramref name="input"/> (length n) to <paramref name="output"/> (length n, not the input).</summary>
    public void Transform<T>(ReadOnlySpan<T> input, Span<T> output, bool inverse, Span<T> scratch) where T : struct, IFftLane<T>
    {
        if (N == 1) { output[0] = input[0]; return; }
        if (_bluestein is not null) _bluestein.Transform(input, output, inverse, scratch);
        else Work(output, input, 0, 1, 0, inverse ? _inverse : _forward, inverse);
    }

    // One level of the recursion: the p sub-transforms of length m (inputs every fstride·p) written side by side, then
    // p-point butterflies across them with twiddles e^{∓2πi·q·u/(p·m)} = w[q·u·fstride].
    void Work<T>(Span<T> output, ReadOnlySpan<T> input, int inOffset, int fstride, int level, Complex[] w, bool inverse) where T : struct, IFftLane<T>
    {
        int p = _factors[level], m = _factors[level + 1];
        if (m == 1)
            for (int j = 0; j < p; j++) output[j] = input[inOffset + j * fstride];
        else
            for (int q = 0; q < p; q++) Work(output.Slice(q * m, m), input, inOffset + q * fstride, fstride * p, level + 2, w, inverse);
        switch (p)
        {
            case 2: Radix2(output, fstride, m, w); break;
            case 4: Radix4(output, fstride, m, w, inverse); break;
            case 3: Radix3(output, fstride, m, w, inverse); break;
            case 5: Radix5(output, fstride, m, w, inverse); break;
            default: General(output, fstride, p, m, w); break;
        }
    }

    static void Radix2<T>(Span<T> o, int fstride, int m, Complex[] w) where T : struct, IFftLane<T>
    {
        for (int u = 0; u < m; u++)
        {
            var t = T.Mul(o[u + m], w[u * fstride]);
            o[u + m] = T.Sub(o[u], t);
            o[u] = T.Add(o[u], t);
        }
    }

    static void Radix4<T>(Span<T> o, int fstride, int m, Complex[] w, bool inverse) where T : struct, IFftLane<T>
    {
        for (int u = 0; u < m; u++)
        {
            T a0 = o[u], a1 = T.Mul(o[u + m], w[u * fstride]), a2 = T.Mul(o[u + 2 * m], w[2 * u * fstride]), a3 = T.Mul(o[u + 3 * m], w[3 * u * fstride]);
            T even = T.Add(a0, a2), diff = T.Sub(a0, a2), sum13 = T.Add(a1, a3);
            // ∓i·(a1 − a3): −i forward, +i inverse.
            T rotated = T.TimesI(T.Sub(a1, a3), negative: !inverse);
            o[u] = T.Add(even, sum13);
            o[u + 2 * m] = T.Sub(even, sum13);
            o[u + m] = T.Add(diff, rotated);
            o[u + 3 * m] = T.Sub(diff, rotated);
        }
    }

    static void Radix3<T>(Span<T> o, int fstride, int m, Complex[] w, bool inverse) where T : struct, IFftLane<T>
    {
        // X1,2 = a0 − (a1 + a2)/2 ± i·Im(w)·(a1 − a2), w = e^{∓2πi/3}.
        double imW = inverse ? Math.Sqrt(3) / 2 : -Math.Sqrt(3) / 2;
        for (int u = 0; u < m; u++)
        {
            T a0 = o[u], a1 = T.Mul(o[u + m], w[u * fstride]), a2 = T.Mul(o[u + 2 * m], w[2 * u * fstride]);
            T sum = T.Add(a1, a2);
            T h = T.Sub(a0, T.Scale(sum, 0.5));
            T id = T.TimesI(T.Scale(T.Sub(a1, a2), imW), negative: false);
            o[u] = T.Add(a0, sum);
            o[u + m] = T.Add(h, id);
            o[u + 2 * m] = T.Sub(h, id);
        }
    }

    static readonly double C1 = Math.Cos(2 * Math.PI / 5), C2 = Math.Cos(4 * Math.PI / 5), S1 = Math.Sin(2 * Math.PI / 5), S2 = Math.Sin(4 * Math.PI / 5);

    static void Radix5<T>(Span<T> o, int fstride, int m, Complex[] w, bool inverse) where T : struct, IFftLane<T>
    {
        // With t1 = a1 + a4, t2 = a2 + a3, t3 = a1 − a4, t4 = a2 − a3: X1,4 = a0 + c1·t1 + c2·t2 ∓ i(s1·t3 + s2·t4),
        // X2,3 = a0 + c2·t1 + c1·t2 ∓ i(s2·t3 − s1·t4) (signs flipped for the inverse).
        for (int u = 0; u < m; u++)
        {
            T a0 = o[u], a1 = T.Mul(o[u + m], w[u * fstride]), a2 = T.Mul(o[u + 2 * m], w[2 * u * fstride]),
                a3 = T.Mul(o[u + 3 * m], w[3 * u * fstride]), a4 = T.Mul(o[u + 4 * m], w[4 * u * fstride]);
            T t1 = T.Add(a1, a4), t2 = T.Add(a2, a3), t3 = T.Sub(a1, a4), t4 = T.Sub(a2, a3);
            T r1 = T.Add(a0, T.Add(T.Scale(t1, C1), T.Scale(t2, C2))), r2 = T.Add(a0, T.Add(T.Scale(t1, C2), T.Scale(t2, C1)));
            T i1 = T.TimesI(T.Add(T.Scale(t3, S1), T.Scale(t4, S2)), negative: !inverse);
            T i2 = T.TimesI(T.Sub(T.Scale(t3, S2), T.Scale(t4, S1)), negative: !inverse);
            o[u] = T.Add(a0, T.Add(t1, t2));
            o[u + m] = T.Add(r1, i1);
            o[u + 4 * m] = T.Sub(r1, i1);
            o[u + 2 * m] = T.Add(r2, i2);
            o[u + 3 * m] = T.Sub(r2, i2);
        }
    }

    void General<T>(Span<T> o, int fstride, int p, int m, Complex[] w) where T : struct, IFftLane<T>
    {
        var a = new T[p];
        for (int u = 0; u < m; u++)
        {
            for (int q = 0; q < p; q++) a[q] = o[u + q * m];
            for (int q1 = 0; q1 < p; q1++)
            {
                int k = u + q1 * m;
                var sum = a[0];
                long index = 0;
                for (int q = 1; q < p; q++)
                {
                    index += (long)fstride * k;
                    if (index >= N) index %= N;
                    sum = T.Add(sum, T.Mul(a[q], w[index]));
                }
                o[k] = sum;
            }
        }
    }

    /// <summary>n as radix/remaining pairs: 4s first, then 2, 3, 5 and larger primes.</summary>
    static int[] Factor(int n, out int largest)
    {
        var f = new System.Collections.Generic.List<int>();
        largest = 1;
        int rest = n, p = 4;
        while (rest > 1)
        {
            while (rest % p != 0)
            {
                p = p switch { 4 => 2, 2 => 3, _ => p + 2 };
                if ((long)p * p > rest) p = rest;
            }
            rest /= p;
            largest = Math.Max(largest, p);
            f.Add(p);
            f.Add(rest);
        }
        return [.. f];
    }
}

/// <summary>
/// Bluestein's chirp-z transform for lengths with a large prime factor: jk = (j² + k² − (k − j)²)/2 turns the DFT into a
/// convolution of x·w with conj(w), w_k = e^{∓πi·k²/n}, done by power-of-two transforms of length ≥ 2n − 1; the chirp
/// and the transformed conj(w) are computed once per plan.
/// </summary>
internal sealed class BluesteinPlan
{
    readonly int _n, _m;
    readonly FftPlan _inner;
    readonly Complex[] _chirp;          // w_k (forward)
    readonly Complex[] _kernelForward;  // the transform of conj(w) laid out circularly
    readonly Complex[] _kernelInverse;  // the same for the inverse chirp

    public BluesteinPlan(int n)
    {
        _n = n;
        _m = 1;
        while (_m < 2 * n - 1) _m <<= 1;
        _inner = FftPlan.For(_m);
        _chirp = new Complex[n];
        for (int k = 0; k < n; k++)
        {
            // k² mod 2n keeps the angle small (the chirp is periodic in 2n).
            double angle = -Math.PI * ((long)k * k % (2L * n)) / n;
            _chirp[k] = new Complex(Math.Cos(angle), Math.Sin(angle));
        }
        _kernelForward = Kernel(inverse: false);
        _kernelInverse = Kernel(inverse: true);
    }

    public int ScratchLength => 2 * _m;

    Complex[] Kernel(bool inverse)
    {
        var b = new ComplexLane[_m];
        for (int k = 0; k < _n; k++)
        {
            var w = inverse ? Complex.Conjugate(_chirp[k]) : _chirp[k];
            b[k] = new(Complex.Conjugate(w));
            if (k > 0) b[_m - k] = new(Complex.Conjugate(w));
        }
        var transformed = new ComplexLane[_m];
        _inner.Transform<ComplexLane>(b, transformed, inverse: false, Span<ComplexLane>.Empty);
        var result = new Complex[_m];
        for (int k = 0; k < _m; k++) result[k] = transformed[k].Value;
        return result;
    }

    public void Transform<T>(ReadOnlySpan<T> input, Span<T> output, bool inverse, Span<T> scratch) where T : struct, IFftLane<T>
    {
        var a = scratch[.._m];
        var t = scratch.Slice(_m, _m);
        a.Clear();
        for (int k = 0; k < _n; k++) a[k] = T.Mul(input[k], inverse ? Complex.Conjugate(_chirp[k]) : _chirp[k]);
        _inner.Transform<T>(a, t, inverse: false, Span<T>.Empty);
        var kernel = inverse ? _kernelInverse : _kernelForward;
        for (int k = 0; k < _m; k++) t[k] = T.Mul(t[k], kernel[k]);
        _inner.Transform<T>(t, a, inverse: true, Span<T>.Empty);
        for (int k = 0; k < _n; k++) output[k] = T.Mul(a[k], (inverse ? Complex.Conjugate(_chirp[k]) : _chirp[k]) / _m);
    }
}
