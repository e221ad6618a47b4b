using System;

namespace Kiln.Kernels.Special;

/// <summary>
/// The regularized incomplete beta function I_x(a, b) in float64, as the logs of I and 1 - I (the continued fraction
/// of whichever side is smaller, by the modified Lentz method), and the reparameterization gradient of a Dirichlet
/// draw's marginal that PyTorch's Dirichlet and Beta backwards use.
/// </summary>
internal static class IncompleteBeta
{
    const double Tiny = 1e-300;
    const double Tolerance = 1e-16;

    /// <summary>(log I_x(a, b), log(1 - I_x(a, b))) for a, b &gt; 0 and 0 ≤ x ≤ 1.</summary>
    public static (double LogI, double LogComplement) Log(double a, double b, double x)
    {
        if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return (double.NaN, double.NaN);
        if (x == 0) return (double.NegativeInfinity, 0);
        if (x == 1) return (0, double.NegativeInfinity);
        if (x < (a + 1) / (a + b + 2))
        {
            double logI = LogFraction(a, b, x);
            return (logI, IncompleteGamma.Log1MinusExp(logI));
        }
        double logComplement = LogFraction(b, a, 1 - x);                // 1 - I_x(a, b) = I_(1-x)(b, a)
        return (IncompleteGamma.Log1MinusExp(logComplement), logComplement);
    }

    /// <summary>log of the beta density x^(a-1)·(1 - x)^(b-1)/B(a, b).</summary>
    public static double LogDensity(double a, double b, double x) =>
        (a - 1) * Math.Log(x) + (b - 1) * Math.Log(1 - x) - ScalarGamma.LogBeta(a, b);

    /// <summary>
    /// -(∂I_x(α, β)/∂α)/b(x; α, β)/(1 - x) with β = total - α held fixed: the marginal x of a Dirichlet draw moves by
    /// this times (1 - x) when α moves (PyTorch's <c>_dirichlet_grad</c>, which approximates it; here central
    /// differences of log I, or of log(1 - I) on the smaller side, with one Richardson step). 0 where not finite.
    /// </summary>
    public static double DirichletGradient(double x, double alpha, double total)
    {
        double beta = total - alpha;
        if (!(x > 0) || !(x < 1) || !(alpha > 0) || !(beta > 0)) return 0;
        bool lower = x < (alpha + 1) / (total + 2);
        var (logI, logComplement) = Log(alpha, beta, x);
        double slope = IncompleteGamma.Richardson(h => lower ? Log(alpha + h, beta, x).LogI : Log(alpha + h, beta, x).LogComplement, alpha);
        // ∂I/∂α = I·∂log I/∂α, or -(1 - I)·∂log(1 - I)/∂α.
        double ratio = Math.Exp((lower ? logI : logComplement) - LogDensity(alpha, beta, x));
        double g = (lower ? -ratio * slope : ratio * slope) / (1 - x);
        return double.IsFinite(g) ? g : 0;
    }

    /// <summary>
    /// log I_x(a, b) = a·log x + b·log(1 - x) - log a - log B(a, b) + log of the continued fraction
    /// 1/(1 + d₁/(1 + d₂/(1 + …))), d₂ₘ₊₁ = -(a + m)(a + b + m)x/((a + 2m)(a + 2m + 1)), d₂ₘ = m(b - m)x/((a + 2m - 1)(a + 2m)),
    /// which converges fast for x &lt; (a + 1)/(a + b + 2).
    /// </summary>
    static double LogFraction(double a, double b, double x)
    {
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        if (Math.Abs(d) < Tiny) d = Tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m < 1_000_000; m++)
        {
            int m2 = 2 * m;
            double even = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + even * d;
            if (Math.Abs(d) < Tiny) d = Tiny;
            c = 1 + even / c;
            if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            h *= d * c;
            double odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + odd * d;
            if (Math.Abs(d) < Tiny) d = Tiny;
            c = 1 + odd / c;
            if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            double step = d * c;
            h *= step;
            if (Math.Abs(step - 1) < Tolerance) break;
        }
        return a * Math.Log(x) + b * Math.Log(1 - x) - Math.Log(a) - ScalarGamma.LogBeta(a, b) + Math.Log(h);
    }
}
