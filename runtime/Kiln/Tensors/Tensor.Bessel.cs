using System;

namespace Kiln;

// The modified Bessel functions of the first kind of orders 0 and 1 (torch.i0, torch.special.i0e/i1/i1e): values in
// float64 from the power series up to 30 and the asymptotic series beyond (both to double precision there), then the
// input's dtype; each carries PyTorch's closed-form derivative, written with these functions (so differentiable again).
public sealed partial class Tensor
{
    const double BesselSeriesLimit = 30;

    /// <summary>I₀(x), the modified Bessel function of the first kind of order 0 (<c>torch.i0</c>); its gradient is I₁(x).</summary>
    public Tensor I0() => Bessel("i0", order: 0, scaled: false, grad => { using var i1 = I1(); return grad * i1; });

    /// <summary>e^(-|x|)·I₀(x), which does not overflow (<c>torch.special.i0e</c>); gradient i1e(x) - sgn(x)·i0e(x).</summary>
    public Tensor I0e() => Bessel("i0e", order: 0, scaled: true, null);

    /// <summary>I₁(x), the modified Bessel function of the first kind of order 1 (<c>torch.special.i1</c>); gradient I₀(x) - I₁(x)/x (½ at 0).</summary>
    public Tensor I1() => Bessel("i1", order: 1, scaled: false, null);

    /// <summary>e^(-|x|)·I₁(x) (<c>torch.special.i1e</c>); gradient i0e(x) - i1e(x)·(sgn(x) + 1/x) (½ at 0).</summary>
    public Tensor I1e() => Bessel("i1e", order: 1, scaled: true, null);

    Tensor Bessel(string op, int order, bool scaled, Func<Tensor, Tensor>? i0Backward)
    {
        if (!DType.IsFloatingPoint())
        {
            using var wide = To(DTypes.Default);
            return wide.Bessel(op, order, scaled, i0Backward);
        }
        Tensor value;
        using (Autograd.NoGrad())
        {
            using var x = To(DType.Float64);
            using var wideValue = ScaledBessel(x, order, scaled);
            value = wideValue.To(DType);
        }
        var input = this;
        var result = value;
        return Autograd.Function(op, [this], () => result, grad =>
        {
            if (i0Backward is not null) return [i0Backward(grad)];
            using var zero = input.Eq(0);
            using var half = Full([], 0.5, input.DType, input.Device);
            using var one = Full([], 1, input.DType, input.Device);
            using var safe = Where(zero, one, input);                    // 1/x read away from 0
            using var inverse = safe.Reciprocal();
            Tensor slope;
            if (order == 0)
            {
                // i0e' = i1e - sgn(x)·i0e
                using var i1e = input.I1e();
                using var sign = input.Sign();
                using var signed = sign * result;
                slope = i1e - signed;
            }
            else
            {
                // i1' = i0 - i1/x; i1e' = i0e - i1e·(sgn(x) + 1/x); both ½ at 0.
                using var i0 = scaled ? input.I0e() : input.I0();
                using var sign = input.Sign();
                using var factor = scaled ? sign + inverse : inverse.To(inverse.DType);
                using var term = result * factor;
                using var general = i0 - term;
                slope = Where(zero, half, general);
            }
            using (slope) return [grad * slope];
        });
    }

    /// <summary>e^(-|x|)·I_order(x) (or I_order(x) itself) of a float64 tensor.</summary>
    static Tensor ScaledBessel(Tensor x, int order, bool scaled)
    {
        using var a = x.Abs();
        using var limit = Full([], BesselSeriesLimit, DType.Float64, x.Device);
        using var small = a.Le(BesselSeriesLimit);
        using var near = a.Minimum(limit);                             // each branch reads a harmless argument
        using var far = a.Maximum(limit);
        using var series = BesselSeries(near, order);                   // I(a), a ≤ 30
        using var decay = near.Neg();
        using var fade = decay.Exp();
        using var seriesScaled = series * fade;
        using var asymptotic = BesselAsymptotic(far, order);             // e^(-a)·I(a), a > 30
        using var magnitude = Where(small, seriesScaled, asymptotic);   // e^(-a)·I(a)
        using var oddSign = order == 1 ? x.Sign() : Full([], 1, DType.Float64, x.Device);
        using var signedScaled = magnitude * oddSign;                   // I₁ is odd
        if (scaled) return signedScaled.To(DType.Float64);
        using var growth = a.Exp();
        return signedScaled * growth;
    }

    /// <summary>I_order(a) = (a/2)^order Σ (a²/4)^k / (k!·(k + order)!), 50 terms (below 1e-20 of the sum for a ≤ 30).</summary>
    static Tensor BesselSeries(Tensor a, int order)
    {
        using var quarter = a.Square() * 0.25;
        var term = Full(a.ShapeArray, 1, DType.Float64, a.Device);
        var sum = term.To(DType.Float64);
        for (int k = 1; k <= 50; k++)
        {
            using var previous = term;
            using var grown = previous * quarter;
            term = grown / ((double)k * (k + order));
            using var before = sum;
            sum = before + term;
        }
        term.Dispose();
        if (order == 0) return sum;
        using (sum)
        {
            using var halfA = a * 0.5;
            return sum * halfA;
        }
    }

    /// <summary>e^(-a)·I_order(a) ≈ (2πa)^(-½) Σ (-1)^k Π_{j≤k}(4·order² - (2j - 1)²) / (k!·8^k·a^k), 20 terms (a &gt; 30).</summary>
    static Tensor BesselAsymptotic(Tensor a, int order)
    {
        using var inverse = a.Reciprocal();
        var sum = Full(a.ShapeArray, 1, DType.Float64, a.Device);
        var power = Full(a.ShapeArray, 1, DType.Float64, a.Device);
        double coefficient = 1;
        for (int k = 1; k <= 20; k++)
        {
            coefficient *= -(4.0 * order * order - (2 * k - 1) * (2 * k - 1)) / (k * 8.0);
            using var previous = power;
            power = previous * inverse;
            using var term = power * coefficient;
            using var before = sum;
            sum = before + term;
        }
        power.Dispose();
        using (sum)
        {
            using var twoPiA = a * (2 * Math.PI);
            using var root = twoPiA.Rsqrt();
            return sum * root;
        }
    }
}
