using System;

namespace Kiln;

// torch.special functions written with tensor ops in float64 (then the input's dtype), so they run on either device:
// lgamma (Lanczos, with the reflection formula below 1/2), digamma (recurrence to x + 6 and the asymptotic series), and
// erfinv (a rational first guess refined by Newton steps on erf). Their gradients are digamma's, trigamma's (through the
// composition) and erfinv's own closed form.
public sealed partial class Tensor
{
    internal static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>log |Γ(x)| (<c>torch.lgamma</c>); +inf at the poles 0, -1, -2, ...; its gradient is digamma.</summary>
    public Tensor Lgamma()
    {
        using var scope = Tensor.Scope();
        return scope.Keep(InFloat64(x =>
        {
            // lgamma(x) = log(π / |sin πx|) - lgamma(1 - x) below 1/2; the unused side reads a harmless x, so its gradient
            // cannot be 0 · inf.
            using var reflect = x.Lt(0.5);
            using var mirrored = 1.0 - x;
            using var y = Where(reflect, mirrored, x);
            using var lanczos = LanczosLog(y);
            using var quarter = Full([], 0.25, DType.Float64, x.Device);
            using var safe = Where(reflect, x, quarter);
            using var angle = safe * Math.PI;
            using var sine = angle.Sin();
            using var magnitude = sine.Abs();
            using var logSine = magnitude.Log();
            using var reflected = (Math.Log(Math.PI) - logSine) - lanczos;
            return Where(reflect, reflected, lanczos);
        }));
    }

    /// <summary>log Γ(y) for y ≥ 1/2 by Lanczos' approximation (g = 7, nine terms).</summary>
    static Tensor LanczosLog(Tensor y)
    {
        using var z = y - 1.0;
        var sum = Full([], Lanczos[0], DType.Float64, y.Device);
        for (int i = 1; i < Lanczos.Length; i++)
        {
            using var shifted = z + i;
            using var term = Lanczos[i] / shifted;
            var next = sum + term;
            sum.Dispose();
            sum = next;
        }
        using (sum)
        {
            using var t = z + 7.5;
            using var logT = t.Log();
            using var power = (z + 0.5) * logT;
            using var logSum = sum.Log();
            return power - t + logSum + 0.5 * Math.Log(2 * Math.PI);
        }
    }

    /// <summary>ψ(x) = d/dx log Γ(x) (<c>torch.digamma</c>): -inf at 0, NaN at the negative integers.</summary>
    public Tensor Digamma()
    {
        using var scope = Tensor.Scope();
        return scope.Keep(InFloat64(x =>
        {
            using var reflect = x.Lt(0.5);
            using var mirrored = 1.0 - x;
            using var y = Where(reflect, mirrored, x);                     // y ≥ 1/2
            // ψ(y) = ψ(y + 6) - Σ_{k<6} 1/(y + k), and ψ(w) for w ≥ 6.5 by the asymptotic series.
            using var w = y + 6.0;
            using var inverse = w.Reciprocal();
            using var inverse2 = inverse.Square();
            using var series = inverse2 * (-1.0 / 12 + inverse2 * (1.0 / 120 + inverse2 * (-1.0 / 252 + inverse2 * (1.0 / 240 + inverse2 * (-1.0 / 132)))));
            using var logW = w.Log();
            var psi = logW - inverse * 0.5 + series;
            for (int k = 0; k < 6; k++)
            {
                using var shifted = y + k;
                using var step = shifted.Reciprocal();
                var next = psi - step;
                psi.Dispose();
                psi = next;
            }
            using (psi)
            {
                // ψ(x) = ψ(1 - x) - π / tan(πx) below 1/2, read at a harmless x elsewhere.
                using var quarter = Full([], 0.25, DType.Float64, x.Device);
                using var safe = Where(reflect, x, quarter);
                using var angle = safe * Math.PI;
                using var tangent = angle.Tan();
                using var cot = Math.PI / tangent;
                using var reflected = psi - cot;
                using var value = Where(reflect, reflected, psi);
                // Poles: -inf at 0, NaN at the negative integers (PyTorch's values).
                using var whole = x.Floor();
                using var integral = x.Eq(whole);
                using var nonPositive = x.Le(0);
                using var pole = integral.BitwiseAnd(nonPositive);
                using var zero = x.Eq(0);
                using var minusInf = Full([], double.NegativeInfinity, DType.Float64, x.Device);
                using var nan = Full([], double.NaN, DType.Float64, x.Device);
                using var poleValue = Where(zero, minusInf, nan);
                return Where(pole, poleValue, value);
            }
        }));
    }

    /// <summary>
    /// The inverse error function, erf(erfinv(y)) = y on (-1, 1), ±inf at ±1 (<c>torch.erfinv</c>); its gradient is
    /// √π/2 · exp(erfinv(y)²).
    /// </summary>
    public Tensor Erfinv()
    {
        using var scope = Tensor.Scope();
        const string op = "erfinv";
        if (!DType.IsFloatingPoint())
        {
            using var wide = To(DTypes.Default);
            return scope.Keep(wide.Erfinv());
        }
        Tensor value;
        using (Autograd.NoGrad())
        {
            using var y = To(DType.Float64);
            // Giles' single-precision rational guess, then Newton steps x -= (erf x - y) / (2/√π · e^(-x²)).
            using var oneMinus = 1.0 - y;
            using var onePlus = 1.0 + y;
            using var product = oneMinus * onePlus;
            using var logged = product.Log();
            using var w = logged.Neg();
            using var central = w - 2.5;
            using var centralPoly = Polynomial(central, [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]);
            using var rootW = w.Sqrt();
            using var tail = rootW - 3.0;
            using var tailPoly = Polynomial(tail, [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]);
            using var isCentral = w.Lt(5);
            using var p = Where(isCentral, centralPoly, tailPoly);
            var x = p * y;
            for (int i = 0; i < 3; i++)
            {
                using var erf = x.Erf();
                using var residual = erf - y;
                using var square = x.Square();
                using var negSquare = square.Neg();
                using var density = negSquare.Exp();
                using var slope = density * (2 / Math.Sqrt(Math.PI));
                using var step = residual / slope;
                using var finite = step.IsFinite();
                using var zero = Full([], 0, DType.Float64, x.Device);
                using var safeStep = Where(finite, step, zero);
                var next = x - safeStep;
                x.Dispose();
                x = next;
            }
            using (x)
            {
                // The ends and outside: ±inf at ±1, NaN beyond.
                using var one = y.Eq(1);
                using var minusOne = y.Eq(-1);
                using var magnitude = y.Abs();
                using var outside = magnitude.Gt(1);
                using var inf = Full([], double.PositiveInfinity, DType.Float64, x.Device);
                using var ninf = Full([], double.NegativeInfinity, DType.Float64, x.Device);
                using var nan = Full([], double.NaN, DType.Float64, x.Device);
                using var a = Where(one, inf, x);
                using var b = Where(minusOne, ninf, a);
                using var c = Where(outside, nan, b);
                value = c.To(DType);
            }
        }
        var result = value;
        return scope.Keep(Autograd.Function(op, [this], () => result, grad =>
        {
            using var square = result.Square();
            using var growth = square.Exp();
            using var slope = growth * (Math.Sqrt(Math.PI) / 2);
            return [grad.Mul(slope)];
        }));
    }

    /// <summary>
    /// x·log(1 + y), 0 where x is 0 (and y is not NaN), as PyTorch's <c>torch.special.xlog1py</c>; its gradients are
    /// PyTorch's: xlog1py(x ≠ 0, y) for x and x/(1 + y) for y (NaN at x = 0, y = -1, as there).
    /// </summary>
    public Tensor Xlog1py(Tensor y)
    {
        var x = this;
        var value = XlogOnePlus(x, y);
        return Autograd.Function("xlog1py", [x, y], () => value, grad =>
        {
            using var nonZero = x.Ne(0);
            using var indicator = nonZero.To(value.DType);
            using var gx = XlogOnePlus(indicator, y);
            using var yPlus = y + 1.0;
            using var gy = x / yPlus;
            return [grad * gx, grad * gy];
        });

        static Tensor XlogOnePlus(Tensor x, Tensor y)
        {
            // Where x is 0, y is read as 0 (log1p 0 = 0), so the value does not meet 0·log 0 at y = -1.
            using var noGrad = Autograd.NoGrad();
            using var zero = x.Eq(0);
            using var finite = y.Eq(y);                               // not NaN
            using var replace = zero.BitwiseAnd(finite);
            using var nothing = Full([], 0, y.DType.IsFloatingPoint() ? y.DType : DTypes.Default, y.Device);
            using var safe = Where(replace, nothing, y);
            using var log = safe.Log1p();
            return x * log;
        }
    }

    /// <summary>The elementwise entropy term -x·log x (<c>torch.special.entr</c>): 0 at 0, -inf below 0.</summary>
    public Tensor Entr()
    {
        if (!DType.IsFloatingPoint())
        {
            using var wide = To(DTypes.Default);
            return wide.Entr();
        }
        using var positive = Gt(0);
        using var zero = Eq(0);
        using var one = Full([], 1, DType, Device);
        using var safe = Where(positive, this, one);                 // log read at 1 off the positive half
        using var log = safe.Log();
        using var product = this * log;
        using var value = product.Neg();
        using var nothing = Full([], 0, DType, Device);
        using var minusInf = Full([], double.NegativeInfinity, DType, Device);
        using var outside = Where(zero, nothing, minusInf);
        using var kept = Where(positive, value, outside);
        using var nan = IsNan();
        return Where(nan, this, kept);
    }

    /// <summary>
    /// The multivariate log-gamma function of dimension <paramref name="p"/> (<c>torch.mvlgamma</c>,
    /// <c>torch.special.multigammaln</c>): p(p-1)/4·log π + Σ_{j&lt;p} log Γ(x - j/2); every element must exceed (p - 1)/2.
    /// </summary>
    public Tensor Mvlgamma(int p)
    {
        using var scope = Tensor.Scope();
        const string op = "mvlgamma";
        if (p < 1) throw new KilnException(op, $"{op}: p has to be greater than or equal to 1, got {p}");
        using (Autograd.NoGrad())
        using (var lowest = Numel == 0 ? Full([], double.PositiveInfinity, DType.Float64, Device) : Amin())
        {
            double low = lowest.To(DType.Float64).Item<double>();
            if (low <= (p - 1) / 2.0)
                throw new KilnException(op, $"{op}: All elements must be greater than (p-1)/2 = {(p - 1) / 2.0}, got {low}");
        }
        Tensor sum = Lgamma();
        for (int j = 1; j < p; j++)
        {
            using var shifted = this - j / 2.0;
            using var lg = shifted.Lgamma();
            using var before = sum;
            sum = before + lg;
        }
        using (sum) return scope.Keep(sum + p * (p - 1) / 4.0 * Math.Log(Math.PI));
    }

    /// <summary>Horner's rule with the coefficients from the highest power down.</summary>
    static Tensor Polynomial(Tensor x, double[] coefficients)
    {
        var r = Full([], coefficients[0], x.DType, x.Device);
        for (int i = 1; i < coefficients.Length; i++)
        {
            using var scaled = r * x;
            var next = scaled + coefficients[i];
            r.Dispose();
            r = next;
        }
        return r;
    }

    /// <summary>Runs <paramref name="body"/> on this tensor as float64 and converts back (integers give the default dtype).</summary>
    Tensor InFloat64(Func<Tensor, Tensor> body)
    {
        var resultType = DType.IsFloatingPoint() ? DType : DTypes.Default;
        using var wide = To(DType.Float64);
        using var r = body(wide);
        return r.To(resultType);
    }
}
