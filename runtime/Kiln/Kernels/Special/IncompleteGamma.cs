using System;

namespace Kiln.Kernels.Special;

/// <summary>
/// The regularized incomplete gamma functions P(a, x) = γ(a, x)/Γ(a) and Q = 1 - P in float64, and the implicit
/// derivative of a gamma draw in its shape. Each side is computed where it is the smaller one — the power series of P
/// below x = a + 1, the continued fraction of Q above (evaluated by the modified Lentz method) — and returned as a log,
/// so tails far below the smallest double keep their relative precision.
/// </summary>
internal static class IncompleteGamma
{
    const double Tiny = 1e-300;
    const double Tolerance = 1e-16;

    /// <summary>(log P(a, x), log Q(a, x)); NaN for a &lt; 0, x &lt; 0 or NaN arguments.</summary>
    public static (double LogP, double LogQ) Log(double a, double x)
    {
        if (double.IsNaN(a) || double.IsNaN(x) || a < 0 || x < 0) return (double.NaN, double.NaN);
        if (x == 0) return a == 0 ? (double.NaN, double.NaN) : (double.NegativeInfinity, 0);
        if (a == 0) return (0, double.NegativeInfinity);          // P(0, x) = 1 for x > 0, PyTorch's limit
        if (double.IsPositiveInfinity(x)) return (0, double.NegativeInfinity);
        if (double.IsPositiveInfinity(a)) return (double.NegativeInfinity, 0);
        if (x < a + 1)
        {
            double logP = LogSeries(a, x);
            return (logP, Log1MinusExp(logP));
        }
        double logQ = LogContinuedFraction(a, x);
        return (Log1MinusExp(logQ), logQ);
    }

    /// <summary>P(a, x) (<c>torch.special.gammainc</c>).</summary>
    public static double P(double a, double x) => Math.Exp(Log(a, x).LogP);

    /// <summary>Q(a, x) (<c>torch.special.gammaincc</c>).</summary>
    public static double Q(double a, double x) => Math.Exp(Log(a, x).LogQ);

    /// <summary>log of the gamma density x^(a-1)·e^(-x)/Γ(a), the derivative of P in x.</summary>
    public static double LogDensity(double a, double x) => (a - 1) * Math.Log(x) - x - ScalarGamma.LogGamma(a);

    /// <summary>
    /// dx/dα of a standard gamma draw x ~ Γ(α, 1) holding its quantile fixed: -(∂P/∂α)/p(x; α) (the implicit
    /// reparameterization gradient). ∂P/∂α comes from central differences of log P (or of log Q, the smaller side) with
    /// one Richardson step; 0 where it is not finite, as PyTorch's gradient is.
    /// </summary>
    public static double SampleGradient(double alpha, double x)
    {
        if (!(x > 0) || !(alpha > 0) || double.IsInfinity(x)) return 0;
        bool lower = x < alpha + 1;
        double logSide = lower ? Log(alpha, x).LogP : Log(alpha, x).LogQ;
        double slope = Richardson(h => SideLog(alpha + h, x, lower), alpha);
        // ∂P/∂α = P·∂log P/∂α, or -Q·∂log Q/∂α.
        double ratio = Math.Exp(logSide - LogDensity(alpha, x));
        double g = lower ? -ratio * slope : ratio * slope;
        return double.IsFinite(g) ? g : 0;
    }

    static double SideLog(double a, double x, bool lower) => lower ? Log(a, x).LogP : Log(a, x).LogQ;

    /// <summary>
    /// f'(0) of f(h) = side at parameter + h, by central differences at steps h and h/2 combined to cancel the h² term
    /// (the step scales with the parameter, so it never crosses 0).
    /// </summary>
    internal static double Richardson(Func<double, double> f, double parameter)
    {
        double h = 1e-3 * Math.Min(parameter, 1) + 1e-4 * Math.Max(parameter - 1, 0);
        double wide = (f(h) - f(-h)) / (2 * h);
        double narrow = (f(h / 2) - f(-h / 2)) / h;
        return (4 * narrow - wide) / 3;
    }

    /// <summary>log P by the series e^(-x)·x^a/Γ(a + 1)·Σₙ xⁿ/((a + 1)…(a + n)), for x &lt; a + 1.</summary>
    static double LogSeries(double a, double x)
    {
        double term = 1, sum = 1;
        for (int n = 1; n < 1_000_000; n++)
        {
            term *= x / (a + n);
            sum += term;
            if (term < sum * Tolerance) break;
        }
        return a * Math.Log(x) - x - ScalarGamma.LogGamma(a + 1) + Math.Log(sum);
    }

    /// <summary>
    /// log Q by the continued fraction e^(-x)·x^a/Γ(a) · 1/(x + 1 - a - 1·(1 - a)/(x + 3 - a - 2·(2 - a)/(x + 5 - a - …))),
    /// for x ≥ a + 1.
    /// </summary>
    static double LogContinuedFraction(double a, double x)
    {
        double b = x + 1 - a, c = 1 / Tiny, d = 1 / b, h = d;
        for (int i = 1; i < 1_000_000; i++)
        {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < Tiny) d = Tiny;
            c = b + an / c;
            if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            double step = d * c;
            h *= step;
            if (Math.Abs(step - 1) < Tolerance) break;
        }
        return a * Math.Log(x) - x - ScalarGamma.LogGamma(a) + Math.Log(h);
    }

    /// <summary>log(1 - e^v) for v ≤ 0, accurate at both ends (Mächler's split at -log 2).</summary>
    internal static double Log1MinusExp(double v) =>
        v > -0.6931471805599453 ? Math.Log(-Elementwise.FloatMath.Expm1(v)) : Elementwise.FloatMath.Log1p(-Math.Exp(v));
}
