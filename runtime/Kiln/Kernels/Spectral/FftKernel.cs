using System;
using System.Buffers;

namespace Kiln.Kernels.Spectral;

/// <summary>
/// The discrete Fourier transform of complex rows in float64: X_k = Σ_j x_j·e^{sign·2πi·jk/n}, unscaled. Powers of two by
/// an iterative radix-2 pass (twiddles computed directly, not by recurrence, so large sizes keep their precision); every
/// other length by Bluestein's chirp-z identity over a power-of-two convolution, O(n log n) either way.
/// </summary>
internal static class FftKernel
{
    /// <summary>Transforms one row in place (<paramref name="re"/> and <paramref name="im"/> of the same length).</summary>
    public static void Transform(Span<double> re, Span<double> im, int sign)
    {
        int n = re.Length;
        if (n <= 1) return;
        if ((n & (n - 1)) == 0) Radix2(re, im, sign);
        else Bluestein(re, im, sign);
    }

    static void Radix2(Span<double> re, Span<double> im, int sign)
    {
        int n = re.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) { (re[i], re[j]) = (re[j], re[i]); (im[i], im[j]) = (im[j], im[i]); }
        }
        for (int len = 2; len <= n; len <<= 1)
        {
            int half = len >> 1;
            for (int k = 0; k < half; k++)
            {
                double angle = sign * 2 * Math.PI * k / len, wr = Math.Cos(angle), wi = Math.Sin(angle);
                for (int s = 0; s < n; s += len)
                {
                    int a = s + k, b = a + half;
                    double tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - tr; im[b] = im[a] - ti;
                    re[a] += tr; im[a] += ti;
                }
            }
        }
    }

    /// <summary>jk = (j² + k² − (k − j)²)/2: the transform is a convolution of x·w with conj(w), w_k = e^{sign·πi·k²/n}.</summary>
    static void Bluestein(Span<double> re, Span<double> im, int sign)
    {
        int n = re.Length, m = 1;
        while (m < 2 * n - 1) m <<= 1;
        var pool = ArrayPool<double>.Shared;
        double[] wr = pool.Rent(n), wi = pool.Rent(n), ar = pool.Rent(m), ai = pool.Rent(m), br = pool.Rent(m), bi = pool.Rent(m);
        try
        {
            for (int k = 0; k < n; k++)
            {
                // k² mod 2n keeps the angle small (the chirp is periodic in 2n).
                double angle = sign * Math.PI * (double)((long)k * k % (2L * n)) / n;
                wr[k] = Math.Cos(angle); wi[k] = Math.Sin(angle);
            }
            Array.Clear(ar, 0, m); Array.Clear(ai, 0, m); Array.Clear(br, 0, m); Array.Clear(bi, 0, m);
            for (int k = 0; k < n; k++)
            {
                ar[k] = re[k] * wr[k] - im[k] * wi[k];
                ai[k] = re[k] * wi[k] + im[k] * wr[k];
            }
            br[0] = wr[0]; bi[0] = -wi[0];
            for (int k = 1; k < n; k++) { br[k] = br[m - k] = wr[k]; bi[k] = bi[m - k] = -wi[k]; }
            var sar = ar.AsSpan(0, m); var sai = ai.AsSpan(0, m); var sbr = br.AsSpan(0, m); var sbi = bi.AsSpan(0, m);
            Radix2(sar, sai, -1);
            Radix2(sbr, sbi, -1);
            for (int k = 0; k < m; k++)
            {
                double r = sar[k] * sbr[k] - sai[k] * sbi[k], i = sar[k] * sbi[k] + sai[k] * sbr[k];
                sar[k] = r; sai[k] = i;
            }
            Radix2(sar, sai, 1);
            for (int k = 0; k < n; k++)
            {
                double cr = sar[k] / m, ci = sai[k] / m;
                re[k] = cr * wr[k] - ci * wi[k];
                im[k] = cr * wi[k] + ci * wr[k];
            }
        }
        finally
        {
            pool.Return(wr); pool.Return(wi); pool.Return(ar); pool.Return(ai); pool.Return(br); pool.Return(bi);
        }
    }
}
