using System;

namespace Kiln;

// The standard normal's distribution function in its tails (torch.special.ndtr/ndtri/log_ndtr/erfcx), in float64 and
// composed of recorded ops, with the far tails from their asymptotic series so nothing underflows to log 0.
public sealed partial class Tensor
{
    /// <summary>Φ(x), the standard normal cdf (<c>torch.special.ndtr</c>).</summary>
    public Tensor Ndtr() => NormalCdf();

    /// <summary>Φ⁻¹(p), the standard normal quantile (<c>torch.special.ndtri</c>): √2·erfinv(2p - 1); ±inf at 1 and 0.</summary>
    public Tensor Ndtri() => InFloat64(p =>
    {
        using var centred = p * 2.0 - 1.0;
        using var inverse = centred.Erfinv();
        return inverse * Math.Sqrt(2);
    });

    /// <summary>
    /// log Φ(x) (<c>torch.special.log_ndtr</c>), accurate far into the lower tail: log(erfc(-x/√2)/2) down to -20, the
    /// asymptotic series -x²/2 - log(-x) - ½ log 2π + log(1 - 1/x² + 3/x⁴ - …) below.
    /// </summary>
    public Tensor LogNdtr() => InFloat64(x =>
    {
        const double cut = -20;
        using var limit = Full([], cut, DType.Float64, x.Device);
        using var tail = x.Lt(cut);
        using var near = x.Maximum(limit);                             // each branch reads a harmless argument
        using var far = x.Minimum(limit);
        using var scaled = near * (-1 / Math.Sqrt(2));
        using var erfc = scaled.Erfc();
        using var half = erfc * 0.5;
        using var direct = half.Log();
        using var inverse2 = far.Square().Reciprocal();
        using (var series = TailSeries(inverse2))                     // Σ (-1)^k (2k-1)!! / x^(2k): below 1e-16 at x = -20
        {
            using var logSeries = series.Log();
            using var square = far.Square();
            using var magnitude = far.Neg();
            using var logMagnitude = magnitude.Log();
            using var asymptotic = square * -0.5 - logMagnitude - 0.5 * Math.Log(2 * Math.PI) + logSeries;
            return Where(tail, asymptotic, direct);
        }
    });

    /// <summary>
    /// The scaled complementary error function e^(x²)·erfc(x) (<c>torch.special.erfcx</c>): directly up to 25, then its
    /// asymptotic series 1/(x√π)·(1 - 1/(2x²) + 3/(4x⁴) - …), which does not overflow.
    /// </summary>
    public Tensor Erfcx() => InFloat64(x =>
    {
        const double cut = 25;
        using var limit = Full([], cut, DType.Float64, x.Device);
        using var tail = x.Gt(cut);
        using var near = x.Minimum(limit);
        using var far = x.Maximum(limit);
        using var erfc = near.Erfc();
        using var square = near.Square();
        using var growth = square.Exp();
        using var direct = growth * erfc;
        using var inverse = far.Square().Reciprocal() * 0.5;
        using (var series = TailSeries(inverse))                      // Σ (-1)^k (2k-1)!! / (2x²)^k: below 1e-16 at x = 25
        {
            using var lead = far * Math.Sqrt(Math.PI);
            using var asymptotic = series / lead;
            return Where(tail, asymptotic, direct);
        }
    });

    /// <summary>Σ_{k≤8} (-1)^k (2k-1)!!·tᵏ, the asymptotic series both Gaussian tails share (t = 1/x² or 1/(2x²)).</summary>
    static Tensor TailSeries(Tensor t)
    {
        var series = Full(t.ShapeArray, 1, DType.Float64, t.Device);
        var power = Full(t.ShapeArray, 1, DType.Float64, t.Device);
        double coefficient = 1;
        for (int k = 1; k <= 8; k++)
        {
            coefficient *= -(2 * k - 1);
            using (var p = power) power = p * t;
            using var term = power * coefficient;
            using var before = series;
            series = before + term;
        }
        power.Dispose();
        return series;
    }
}
