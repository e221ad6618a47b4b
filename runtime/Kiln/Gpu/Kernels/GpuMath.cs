using System;
using ILGPU;
using Kiln.Kernels.Elementwise;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// The double-precision functions GPU kernels call (printed by the formula algebra for GPU bodies, called by the row
/// kernels). ILGPU's PTX backend has no double exp or log instruction and, without CUDA's libdevice at build time, lowers
/// <see cref="Math.Exp"/>, <see cref="Math.Log(double)"/>, <see cref="Math.Tanh"/> and <see cref="Math.Pow"/> to CORDIC
/// iterations: measured on an H200, a float32 tanh over 2^28 elements took ~110 ms against a 0.5 ms copy. These are
/// range reduction plus fixed polynomials (a few dozen FMAs), within a few double ulps — far below a float32 result's
/// rounding. The rest forward to <see cref="Math"/> (native in PTX: sqrt, floor, abs, min, max; sin, cos and the
/// inverse trigonometric functions stay on ILGPU's implementation).
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class GpuMath
{
    const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10, Log2E = 1.4426950408889634074;

    /// <summary>e^x: x = k·ln2 + r (Cody–Waite), |r| ≤ ln2/2, e^r by its Taylor polynomial to r^13, 2^k in two exponent steps.</summary>
    public static double Exp(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x > 709.782712893384) return double.PositiveInfinity;
        if (x < -745.1332191019412) return 0;
        double k = Math.Floor(x * Log2E + 0.5);
        double r = x - k * Ln2Hi - k * Ln2Lo;
        double p = 1.0 / 6227020800.0;                 // 1/13!
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        // k spans [-1075, 1024]: two factors keep each inside the normal exponent range (subnormal results come out right).
        long k1 = (long)k / 2, k2 = (long)k - k1;
        return p * PowerOfTwo(k1) * PowerOfTwo(k2);
    }

    /// <summary>e^x - 1 without cancellation near 0 (Taylor to x^17 for |x| &lt; 0.5, e^x - 1 beyond).</summary>
    public static double Expm1(double x)
    {
        if (!(Math.Abs(x) < 0.5)) return Exp(x) - 1.0;
        double p = 1.0 / 355687428096000.0;            // 1/17!
        p = p * x + 1.0 / 20922789888000.0;
        p = p * x + 1.0 / 1307674368000.0;
        p = p * x + 1.0 / 87178291200.0;
        p = p * x + 1.0 / 6227020800.0;
        p = p * x + 1.0 / 479001600.0;
        p = p * x + 1.0 / 39916800.0;
        p = p * x + 1.0 / 3628800.0;
        p = p * x + 1.0 / 362880.0;
        p = p * x + 1.0 / 40320.0;
        p = p * x + 1.0 / 5040.0;
        p = p * x + 1.0 / 720.0;
        p = p * x + 1.0 / 120.0;
        p = p * x + 1.0 / 24.0;
        p = p * x + 1.0 / 6.0;
        p = p * x + 0.5;
        p = p * x + 1.0;
        return p * x;
    }

    /// <summary>ln x: x = m·2^e with m in [√½, √2), ln m = 2·atanh(s), s = (m-1)/(m+1) (|s| ≤ 0.172, odd series to s^23).</summary>
    public static double Log(double x)
    {
        if (double.IsNaN(x) || x < 0) return double.NaN;
        if (x == 0) return double.NegativeInfinity;
        if (double.IsPositiveInfinity(x)) return x;
        ulong bits = Interop.FloatAsInt(x);
        long e = (long)((bits >> 52) & 0x7FF);
        if (e == 0) // subnormal: scale into the normal range first
        {
            bits = Interop.FloatAsInt(x * 18014398509481984.0); // 2^54
            e = (long)((bits >> 52) & 0x7FF) - 54;
        }
        e -= 1023;
        double m = Interop.IntAsFloat((bits & 0x000FFFFFFFFFFFFFUL) | 0x3FF0000000000000UL);   // [1, 2)
        if (m > 1.4142135623730951) { m *= 0.5; e++; }
        double s = (m - 1.0) / (m + 1.0), s2 = s * s;
        double p = 1.0 / 23;
        p = p * s2 + 1.0 / 21;
        p = p * s2 + 1.0 / 19;
        p = p * s2 + 1.0 / 17;
        p = p * s2 + 1.0 / 15;
        p = p * s2 + 1.0 / 13;
        p = p * s2 + 1.0 / 11;
        p = p * s2 + 1.0 / 9;
        p = p * s2 + 1.0 / 7;
        p = p * s2 + 1.0 / 5;
        p = p * s2 + 1.0 / 3;
        p = p * s2 + 1.0;
        return e * Ln2Hi + (2.0 * s * p + e * Ln2Lo);
    }

    /// <summary>tanh x = expm1(2|x|) / (expm1(2|x|) + 2), signed; ±1 beyond |x| = 20.</summary>
    public static double Tanh(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        double t = 1.0;
        if (a <= 20)
        {
            double e = Expm1(2 * a);
            t = e / (e + 2.0);
        }
        return x < 0 ? -t : t;
    }

    /// <summary>x^y: exact repeated squaring for integer |y| ≤ 64, else e^(y·ln x) (NaN for a negative base).</summary>
    public static double Pow(double x, double y)
    {
        if (y == 0) return 1;
        if (double.IsNaN(x) || double.IsNaN(y)) return double.NaN;
        if (Math.Floor(y) == y && Math.Abs(y) <= 64)
        {
            long n = (long)Math.Abs(y);
            double r = 1, b = x;
            while (n > 0) { if ((n & 1) != 0) r *= b; b *= b; n >>= 1; }
            return y < 0 ? 1.0 / r : r;
        }
        if (x < 0) return double.NaN;
        if (x == 0) return y > 0 ? 0 : double.PositiveInfinity;
        return Exp(y * Log(x));
    }

    /// <summary>log(1 + x) without cancellation.</summary>
    public static double Log1p(double x) => FloatMath.Log1p<GpuExpLog>(x);
    /// <summary>Logistic sigmoid, stable for large |x|.</summary>
    public static double Sigmoid(double x) => FloatMath.Sigmoid<GpuExpLog>(x);
    /// <summary>erf x.</summary>
    public static double Erf(double x) => FloatMath.Erf<GpuExpLog>(x);
    /// <summary>1 + erf x, keeping its relative accuracy when tiny.</summary>
    public static double OnePlusErf(double x) => FloatMath.OnePlusErf<GpuExpLog>(x);
    /// <summary>Nearest integer, ties to even.</summary>
    public static double RoundHalfEven(double x) => FloatMath.RoundHalfEven(x);
    /// <summary>The integer part, toward zero.</summary>
    public static double Trunc(double x) => FloatMath.Trunc(x);
    /// <summary>√x (a PTX instruction).</summary>
    public static double Sqrt(double x) => Math.Sqrt(x);
    /// <summary>⌊x⌋.</summary>
    public static double Floor(double x) => Math.Floor(x);
    /// <summary>⌈x⌉.</summary>
    public static double Ceiling(double x) => Math.Ceiling(x);
    /// <summary>|x|.</summary>
    public static double Abs(double x) => Math.Abs(x);
    /// <summary>The larger (NaN handling as <see cref="Math.Max(double, double)"/>).</summary>
    public static double Max(double a, double b) => Math.Max(a, b);
    /// <summary>The smaller (NaN handling as <see cref="Math.Min(double, double)"/>).</summary>
    public static double Min(double a, double b) => Math.Min(a, b);
    /// <summary>sin x (ILGPU's implementation).</summary>
    public static double Sin(double x) => Math.Sin(x);
    /// <summary>cos x (ILGPU's implementation).</summary>
    public static double Cos(double x) => Math.Cos(x);
    /// <summary>asin x (ILGPU's implementation).</summary>
    public static double Asin(double x) => Math.Asin(x);
    /// <summary>acos x (ILGPU's implementation).</summary>
    public static double Acos(double x) => Math.Acos(x);
    /// <summary>atan x (ILGPU's implementation).</summary>
    public static double Atan(double x) => Math.Atan(x);
    /// <summary>atan2(y, x) (ILGPU's implementation).</summary>
    public static double Atan2(double y, double x) => Math.Atan2(y, x);

    static double PowerOfTwo(long k) => Interop.IntAsFloat((ulong)(k + 1023) << 52);
}

/// <summary>The shared special functions' exp and log inside GPU kernels.</summary>
internal readonly struct GpuExpLog : IExpLog
{
    public double Exp(double x) => GpuMath.Exp(x);
    public double Log(double x) => GpuMath.Log(x);
}
