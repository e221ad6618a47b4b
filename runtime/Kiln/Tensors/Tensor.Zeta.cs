using System;

namespace Kiln;

// The Hurwitz zeta function and the polygamma functions read off it: ψ⁽ⁿ⁾(x) = (-1)ⁿ⁺¹ n! ζ(n + 1, x). ζ(s, q) is the
// sum of its first N terms (q + k)^(-s), shifted until q + N ≥ 10, plus the Euler–Maclaurin tail at q + N, in float64.
public sealed partial class Tensor
{
    /// <summary>The largest shift the recurrence takes, so an argument far below 0 is a clear error rather than a long loop.</summary>
    const int ZetaMaxShift = 4096;

    /// <summary>
    /// The n-th derivative of the digamma function (<c>torch.polygamma(n, x)</c>); n = 0 is <see cref="Digamma"/>. Its
    /// gradient is ψ⁽ⁿ⁺¹⁾(x).
    /// </summary>
    public Tensor Polygamma(int n)
    {
        using var scope = Tensor.Scope();
        const string op = "polygamma";
        if (n < 0) throw new KilnException(op, $"{op}: polygamma(n, x) does not support negative n, got {n}");
        if (n == 0) return scope.Keep(Digamma());
        if (!DType.IsFloatingPoint())
        {
            using var wide = To(DTypes.Default);
            return scope.Keep(wide.Polygamma(n));
        }
        Tensor value;
        using (Autograd.NoGrad())
        {
            using var x = To(DType.Float64);
            using var s = Full([], n + 1, DType.Float64, x.Device);
            using var zeta = HurwitzZeta(op, s, x);
            double factorial = 1;
            for (int k = 2; k <= n; k++) factorial *= k;
            using var scaled = zeta * ((n % 2 == 1 ? 1 : -1) * factorial);
            value = scaled.To(DType);
        }
        var input = this;
        var result = value;
        return scope.Keep(Autograd.Function(op, [this], () => result, grad =>
        {
            using var next = input.Polygamma(n + 1);
            return [grad * next];
        }));
    }

    /// <summary>
    /// The Hurwitz zeta function ζ(x, q) = Σₖ (k + q)^(-x) (<c>torch.special.zeta</c>), this tensor being x (x &gt; 1;
    /// +inf at x = 1 and at the poles q = 0, -1, ...; NaN where x &lt; 1). Not differentiable, as in PyTorch.
    /// </summary>
    public Tensor Zeta(Tensor q)
    {
        using var scope = Tensor.Scope();
        const string op = "special.zeta";
        var dtype = ResultType(this, q);
        if (!dtype.IsFloatingPoint()) dtype = DTypes.Default;
        using var noGrad = Autograd.NoGrad();
        using var s = To(DType.Float64);
        using var q64 = q.To(DType.Float64);
        using var zeta = HurwitzZeta(op, s, q64);
        return scope.Keep(zeta.To(dtype));
    }

    /// <summary>ζ(s, q) of float64 tensors (broadcast): shifted sum plus the Euler–Maclaurin tail, with Cephes' domain rules.</summary>
    static Tensor HurwitzZeta(string op, Tensor s, Tensor q)
    {
        double lowest;
        using (var minimum = q.Amin()) lowest = q.Numel == 0 ? 0 : minimum.Item<double>();
        if (lowest < -ZetaMaxShift)
            throw new KilnException(op, $"{op}: arguments below {-ZetaMaxShift} are not supported (got {lowest})");
        int shift = Math.Max(10, (int)Math.Ceiling(10 - lowest));
        Tensor sum;
        using (var broadcast = s + q) sum = ZerosLike(broadcast);
        for (int k = 0; k < shift; k++)
        {
            using var shifted = q + k;
            using var term = Power(shifted, s);
            using var before = sum;
            sum = before + term;
        }
        using var a = q + shift;
        using var aPowMinusS = Power(a, s);                           // a^(-s)
        using var sMinusOne = s - 1.0;
        using var integral = a * aPowMinusS / sMinusOne;              // a^(1-s)/(s-1)
        using var half = aPowMinusS * 0.5;
        var tail = integral + half;
        // Σ B₂ⱼ/(2j)! · s(s+1)…(s+2j-2) · a^(-s-2j+1)
        double[] bernoulli = [1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6, -3617.0 / 510];
        using var inverseA = a.Reciprocal();
        using var inverseA2 = inverseA.Square();
        var rising = s.To(DType.Float64);                              // s(s+1)…(s+2j-2)
        var power = aPowMinusS * inverseA;                             // a^(-s-2j+1)
        double factorial = 2;                                          // (2j)!
        for (int j = 1; j <= bernoulli.Length; j++)
        {
            using (var term = rising * power * (bernoulli[j - 1] / factorial)) { using var before = tail; tail = before + term; }
            using (var r = rising) { using var s1 = s + (2 * j - 1); using var s2 = s + 2 * j; rising = r * s1 * s2; }
            using (var p = power) power = p * inverseA2;
            factorial *= (2 * j + 1) * (2 * j + 2);
        }
        rising.Dispose();
        power.Dispose();
        using (tail)
        using (var total = sum + tail)
        {
            sum.Dispose();
            // Cephes' domain: +inf at s = 1 and at the poles q ∈ {0, -1, ...}; NaN for s < 1, and for q < 0 with s not whole.
            using var inf = Full([], double.PositiveInfinity, DType.Float64, q.Device);
            using var nan = Full([], double.NaN, DType.Float64, q.Device);
            using var pole = s.Eq(1);
            using var below = s.Lt(1);
            using var qWhole = q.Eq(q.Floor());
            using var qNonPositive = q.Le(0);
            using var qPole = qWhole.BitwiseAnd(qNonPositive);
            using var qNegative = q.Lt(0);
            using var sWhole = s.Eq(s.Floor());
            using var sFraction = sWhole.LogicalNot();
            using var undefined = qNegative.BitwiseAnd(sFraction);
            using var v1 = Where(undefined, nan, total);
            using var v2 = Where(qPole, inf, v1);
            using var v3 = Where(below, nan, v2);
            return Where(pole, inf, v3);
        }
    }

    /// <summary>x^(-s) elementwise.</summary>
    static Tensor Power(Tensor x, Tensor s)
    {
        using var negative = s.Neg();
        return x.Pow(negative);
    }
}
