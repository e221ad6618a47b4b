using System;

namespace Kiln.Kernels.Special;

/// <summary>log Γ and ψ of one float64 value, for the host loops of the incomplete gamma and beta functions.</summary>
internal static class ScalarGamma
{
    /// <summary>log |Γ(x)|: Lanczos (the tensor lgamma's coefficients) for x ≥ ½, the reflection formula below.</summary>
    public static double LogGamma(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0.5)
        {
            if (x == Math.Floor(x)) return double.PositiveInfinity;
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }
        if (double.IsPositiveInfinity(x)) return double.PositiveInfinity;
        var c = Tensor.Lanczos;
        double z = x - 1, sum = c[0];
        for (int i = 1; i < c.Length; i++) sum += c[i] / (z + i);
        double t = z + 7.5;
        return (z + 0.5) * Math.Log(t) - t + Math.Log(sum) + 0.5 * Math.Log(2 * Math.PI);
    }

    /// <summary>log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b).</summary>
    public static double LogBeta(double a, double b) => LogGamma(a) + LogGamma(b) - LogGamma(a + b);
}
