using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Elementwise;

/// <summary>
/// Float functions the BCL lacks as vectors (tanh, erf-based GELU) or as scalars (log1p, erfc),
/// each written once for <see cref="Vector256{T}"/> of float and for double scalars.
/// </summary>
internal static class FloatMath
{
    /// <summary>
    /// e^x for float lanes: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by a degree-7
    /// polynomial, 2^n put straight into the exponent bits. About 1 ulp; below e^-87.3 it flushes to 0.
    /// Several times cheaper than the BCL's general vector Exp, which matters for softmax, GELU and sigmoid.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x) => Exp(new Lanes256(x)).V;

    /// <summary>e^x for 16 float lanes (the same algorithm).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x) => Exp(new Lanes512(x)).V;

    /// <summary>e^x for any lane width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV>(TV x) where TV : struct, IFloatLanes<TV>
    {
        // Above 88.7228 (ln of float's max) e^x overflows: clamped to 89, n is still 128 and p · 2^128 is +inf.
        var xc = TV.Clamp(x, -87.33654f, 89f);
        var n = TV.Round(TV.Mul(xc, TV.Splat(1.44269504088896341f)));
        var r = TV.Fma(n, TV.Splat(-0.693359375f), xc);
        r = TV.Fma(n, TV.Splat(2.12194440e-4f), r);
        // The degree-7 Taylor polynomial by Estrin's scheme: independent pairs, then r², then r⁴ — a third of Horner's
        // dependent chain, so more elements are in flight (a long chain stalls the out-of-order window, not the ALUs).
        var r2 = TV.Mul(r, r);
        var q0 = TV.Fma(r, TV.Splat(1f), TV.Splat(1f));
        var q1 = TV.Fma(r, TV.Splat(1f / 6), TV.Splat(0.5f));
        var q2 = TV.Fma(r, TV.Splat(1f / 120), TV.Splat(1f / 24));
        var q3 = TV.Fma(r, TV.Splat(1f / 5040), TV.Splat(1f / 720));
        var p = TV.Fma(TV.Fma(q3, r2, q2), TV.Mul(r2, r2), TV.Fma(q1, r2, q0));
        // n is in [-126, 128]: p · 2^n by one scale instruction (AVX-512) or through the exponent field (there n = 128 gives
        // +inf, a little early: e^88.7 is just below float's max).
        return TV.FixUp(x, TV.ScaleByPowerOfTwo(p, n), -87.33654f);
    }

    /// <summary>log(1+x) without cancellation (Goldberg's trick).</summary>
    public static double Log1p(double x) => Log1p<SystemExpLog>(x);

    /// <summary>log(1+x) for float lanes, Goldberg's form over the vector log (no cancellation near 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log1p(Vector256<float> x) => Log1p(new Lanes256(x)).V;

    /// <summary>log(1+x) for 16 float lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log1p(Vector512<float> x) => Log1p(new Lanes512(x)).V;

    /// <summary>log(1+x) for any lane width: log(u)·x/(u-1) with u = 1 + x rounded; x itself where u is 1, +inf at +inf.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Log1p<TV>(TV x) where TV : struct, IFloatLanes<TV>
    {
        var one = TV.Splat(1f);
        var u = TV.Add(one, x);
        var r = TV.Div(TV.Mul(TV.Log(u), x), TV.Sub(u, one));
        r = TV.SelectEqual(u, one, x, r);
        return TV.SelectEqual(u, TV.Splat(float.PositiveInfinity), u, r);
    }

    /// <summary>log(1+x) over the exp/log of <typeparamref name="TM"/> (the BCL's, or a GPU kernel's).</summary>
    public static double Log1p<TM>(double x) where TM : struct, IExpLog
    {
        double u = 1.0 + x;
        if (u == 1.0) return x;
        return default(TM).Log(u) * x / (u - 1.0);
    }

    /// <summary>e^x - 1 without cancellation near 0 (Kahan's form over exp and log).</summary>
    public static double Expm1(double x) => Expm1<SystemExpLog>(x);

    /// <summary>e^x - 1 for float lanes, Kahan's form over the vector exp and log (no cancellation near 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Expm1(Vector256<float> x) => Expm1(new Lanes256(x)).V;

    /// <summary>e^x - 1 for 16 float lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Expm1(Vector512<float> x) => Expm1(new Lanes512(x)).V;

    /// <summary>
    /// e^x - 1 for any lane width: (u - 1)·x / log(u) with u = e^x rounded, exact to a few ulp because log(u) recovers the
    /// point u is the exponential of; x itself where u is 1, u - 1 where u is 0 or +inf (-1 and +inf).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Expm1<TV>(TV x) where TV : struct, IFloatLanes<TV>
    {
        var one = TV.Splat(1f);
        var u = Exp(x);
        var um1 = TV.Sub(u, one);
        var r = TV.Div(TV.Mul(um1, x), TV.Log(u));
        r = TV.SelectEqual(u, one, x, r);
        r = TV.SelectEqual(u, TV.Splat(0f), um1, r);
        return TV.SelectEqual(u, TV.Splat(float.PositiveInfinity), u, r);
    }

    /// <summary>e^x - 1 over the exp/log of <typeparamref name="TM"/>.</summary>
    public static double Expm1<TM>(double x) where TM : struct, IExpLog
    {
        double u = default(TM).Exp(x);
        if (u == 1.0) return x;
        double um1 = u - 1.0;
        if (um1 == -1.0 || double.IsInfinity(u)) return um1;
        return um1 * x / default(TM).Log(u);
    }

    /// <summary>
    /// 1 + erf(x) to double precision: the Maclaurin series of erf for |x| &lt; 2.5 (beyond it the series cancels),
    /// erfc's continued fraction (modified Lentz) outside, so 1 + erf(x) = erfc(-x) keeps its relative accuracy when tiny.
    /// </summary>
    public static double OnePlusErf(double x) => OnePlusErf<SystemExpLog>(x);

    /// <summary>1 + erf(x) over the exp of <typeparamref name="TM"/>.</summary>
    public static double OnePlusErf<TM>(double x) where TM : struct, IExpLog
    {
        if (double.IsNaN(x)) return x;
        if (x > 6) return 2;
        if (x < -27) return 0;
        if (x >= 2.5) return 2 - ErfcContinuedFraction<TM>(x);
        if (x > -2.5) return 1 + ErfSeries(x);
        return ErfcContinuedFraction<TM>(-x);
    }

    /// <summary>erf(x) to double precision: the series near 0 (no cancellation through 1 + erf), erfc's fraction outside.</summary>
    public static double Erf(double x) => Erf<SystemExpLog>(x);

    /// <summary>erf(x) over the exp of <typeparamref name="TM"/>.</summary>
    public static double Erf<TM>(double x) where TM : struct, IExpLog
    {
        if (double.IsNaN(x)) return x;
        if (x > 6) return 1;
        if (x < -6) return -1;
        if (x >= 2.5) return 1 - ErfcContinuedFraction<TM>(x);
        if (x > -2.5) return ErfSeries(x);
        return ErfcContinuedFraction<TM>(-x) - 1;
    }

    static double ErfSeries(double x)
    {
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 200; n++)
        {
            term *= -x2 / n;
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
        }
        return sum * 1.1283791670955125739; // 2/sqrt(pi)
    }

    static double ErfcContinuedFraction<TM>(double z) where TM : struct, IExpLog
    {
        // erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...))))
        const double tiny = 1e-300;
        double f = z, c = z, d = 0;
        for (int n = 1; n < 300; n++)
        {
            double an = n * 0.5;
            d = z + an * d; d = Math.Abs(d) < tiny ? tiny : d; d = 1 / d;
            c = z + an / c; c = Math.Abs(c) < tiny ? tiny : c;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return default(TM).Exp(-z * z) / (f * 1.7724538509055160273);
    }

    /// <summary>Exact GELU: x/2 (1 + erf(x / sqrt 2)).</summary>
    public static double Gelu(double x) => 0.5 * x * OnePlusErf(x * 0.70710678118654752440);

    /// <summary>
    /// 1 + erf(x) for float lanes through erfc's Chebyshev fit (fractional error below 1.2e-7 everywhere,
    /// enough for float32 on both sides of zero).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> OnePlusErf(Vector256<float> x) => OnePlusErf(new Lanes256(x)).V;

    /// <summary>1 + erf(x) for 16 float lanes (the same fit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> OnePlusErf(Vector512<float> x) => OnePlusErf(new Lanes512(x)).V;

    /// <summary>1 + erf(x) for any lane width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV OnePlusErf<TV>(TV x) where TV : struct, IFloatLanes<TV>
    {
        var z = TV.Abs(x);
        var one = TV.Splat(1f);
        var t = TV.Div(one, TV.Add(one, TV.Mul(TV.Splat(0.5f), z)));
        // The degree-9 fit in t by Estrin's scheme (see Exp): pairs, then t², t⁴, t⁸.
        var t2 = TV.Mul(t, t);
        var t4 = TV.Mul(t2, t2);
        var q0 = TV.Fma(t, TV.Splat(1.00002368f), TV.Splat(-1.26551223f));
        var q1 = TV.Fma(t, TV.Splat(0.09678418f), TV.Splat(0.37409196f));
        var q2 = TV.Fma(t, TV.Splat(0.27886807f), TV.Splat(-0.18628806f));
        var q3 = TV.Fma(t, TV.Splat(1.48851587f), TV.Splat(-1.13520398f));
        var q4 = TV.Fma(t, TV.Splat(0.17087277f), TV.Splat(-0.82215223f));
        var low = TV.Fma(TV.Fma(q3, t2, q2), t4, TV.Fma(q1, t2, q0));
        var p = TV.Sub(TV.Fma(TV.Mul(q4, t4), t4, low), TV.Mul(z, z));
        var erfc = TV.Mul(t, Exp(p));
        return TV.SelectLess(x, TV.Splat(0f), erfc, TV.Sub(TV.Splat(2f), erfc));
    }

    /// <summary>erf(x) for float lanes: an odd series below 0.5, 1 - erfc(|x|) by the fit of the lanes' 1 + erf.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x) => Erf(new Lanes256(x)).V;

    /// <summary>erf(x) for 16 float lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Erf(Vector512<float> x) => Erf(new Lanes512(x)).V;

    /// <summary>erf(x) for any lane width (relative error below 3e-7: near 0 the series keeps it relative, where 1 - erfc would cancel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Erf<TV>(TV x) where TV : struct, IFloatLanes<TV>
    {
        var z = TV.Abs(x);
        // 1 - erfc(z): onePlusErf(-z) is erfc(z), kept relative by the fit.
        var big = TV.Sub(TV.Splat(1f), OnePlusErf(TV.Neg(z)));
        var signed = TV.SelectLess(x, TV.Splat(0f), TV.Neg(big), big);
        // 2/√π · x · Σ (-1)ⁿ u^n / (n!(2n+1)), u = x², through n = 6: below 1e-9 of the sum at 0.5.
        var u = TV.Mul(x, x);
        var poly = TV.Splat(1f / 9360);
        poly = TV.Fma(poly, u, TV.Splat(-1f / 1320));
        poly = TV.Fma(poly, u, TV.Splat(1f / 216));
        poly = TV.Fma(poly, u, TV.Splat(-1f / 42));
        poly = TV.Fma(poly, u, TV.Splat(1f / 10));
        poly = TV.Fma(poly, u, TV.Splat(-1f / 3));
        poly = TV.Fma(poly, u, TV.Splat(1f));
        var small = TV.Mul(TV.Mul(x, TV.Splat(1.1283791670955126f)), poly);
        return TV.SelectLess(z, TV.Splat(0.5f), small, signed);
    }

    /// <summary>tanh for float lanes: a short odd series near 0, 1 - 2/(e^{2|x|}+1) elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x) => Tanh(new Lanes256(x)).V;

    /// <summary>tanh for 16 float lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x) => Tanh(new Lanes512(x)).V;

    /// <summary>tanh for any lane width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TV>(TV x) where TV : struct, IFloatLanes<TV>
    {
        var ax = TV.Abs(x);
        var one = TV.Splat(1f);
        var e = Exp(TV.Min(TV.Add(ax, ax), TV.Splat(88f)));
        var big = TV.Sub(one, TV.Div(TV.Splat(2f), TV.Add(e, one)));
        var x2 = TV.Mul(x, x);
        // x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 - 1382x^11/155925
        var poly = TV.Splat(-1382f / 155925f);
        poly = TV.Add(TV.Splat(62f / 2835f), TV.Mul(x2, poly));
        poly = TV.Add(TV.Splat(-17f / 315f), TV.Mul(x2, poly));
        poly = TV.Add(TV.Splat(2f / 15f), TV.Mul(x2, poly));
        poly = TV.Add(TV.Splat(-1f / 3f), TV.Mul(x2, poly));
        var small = TV.Add(x, TV.Mul(TV.Mul(x, x2), poly));
        var signed = TV.SelectLess(x, TV.Splat(0f), TV.Neg(big), big);
        return TV.SelectLess(ax, TV.Splat(0.2f), small, signed);
    }

    /// <summary>Logistic sigmoid for float lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) => Sigmoid(new Lanes256(x)).V;

    /// <summary>Logistic sigmoid for 16 float lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Sigmoid(new Lanes512(x)).V;

    /// <summary>Logistic sigmoid for any lane width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TV>(TV x) where TV : struct, IFloatLanes<TV>
    {
        var one = TV.Splat(1f);
        return TV.Div(one, TV.Add(one, Exp(TV.Neg(x))));
    }

    /// <summary>Logistic sigmoid, stable for large |x|.</summary>
    public static double Sigmoid(double x) => Sigmoid<SystemExpLog>(x);

    /// <summary>Logistic sigmoid over the exp of <typeparamref name="TM"/>.</summary>
    public static double Sigmoid<TM>(double x) where TM : struct, IExpLog
    {
        if (x >= 0) return 1.0 / (1.0 + default(TM).Exp(-x));
        double e = default(TM).Exp(x);
        return e / (1.0 + e);
    }

    /// <summary>Nearest integer, ties to even (torch.round), from Floor alone so GPU kernels can use it too.</summary>
    public static double RoundHalfEven(double x)
    {
        double r = Math.Floor(x + 0.5);
        if (r - x == 0.5 && r - 2 * Math.Floor(r * 0.5) != 0) r -= 1; // a tie rounded up to an odd number: take the even one
        return r;
    }

    /// <summary>The integer part, toward zero, from Floor alone (GPU kernels have no Math.Truncate).</summary>
    public static double Trunc(double x) => x < 0 ? -Math.Floor(-x) : Math.Floor(x);
}
