using System;

namespace Kiln;

// Pointwise functions written with other pointwise ops (fmod, frac, hypot, copysign, sinc, deg2rad, heaviside, ...): their
// values and gradients are those ops', and they run wherever those run.
public sealed partial class Tensor
{
    /// <summary>
    /// C's fmod: the remainder of truncated division, with the dividend's sign (<c>torch.fmod</c>; <see cref="Remainder(Tensor)"/>
    /// takes the divisor's). Written as the remainder moved back by one divisor where the signs differ, so it is as exact.
    /// </summary>
    public Tensor Fmod(Tensor other)
    {
        using var r = Remainder(other);
        using var nonZero = r.Ne(0);
        using var rNegative = r.Lt(0);
        using var xNegative = Lt(0);
        using var signsDiffer = rNegative.Ne(xNegative);
        using var shift = nonZero.BitwiseAnd(signsDiffer);
        using var moved = r.Sub(other);
        return Where(shift, moved, r);
    }

    /// <summary>C's fmod by a number.</summary>
    public Tensor Fmod(double other)
    {
        using var t = Scalar(other);
        return Fmod(t);
    }

    /// <summary>The fractional part, x − trunc(x), with x's sign (<c>torch.frac</c>).</summary>
    public Tensor Frac()
    {
        using var whole = Trunc();
        return Sub(whole);
    }

    /// <summary>√(x² + y²) (<c>torch.hypot</c>).</summary>
    public Tensor Hypot(Tensor other)
    {
        using var a = Mul(this);
        using var b = other.Mul(other);
        using var sum = a.Add(b);
        return sum.Sqrt();
    }

    /// <summary>
    /// |x| with the sign of <paramref name="other"/>, -0.0 counting as negative (<c>torch.copysign</c>). Integers give floats.
    /// </summary>
    public Tensor Copysign(Tensor other)
    {
        if (!DType.IsFloatingPoint())
        {
            using var wide = To(DTypes.Default);
            return wide.Copysign(other);
        }
        using var magnitude = Abs();
        using var negative = other.Signbit();
        using var flipped = magnitude.Neg();
        return Where(negative, flipped, magnitude);
    }

    /// <summary>|x| with the sign of a number (<c>torch.copysign</c>).</summary>
    public Tensor Copysign(double other)
    {
        using var t = Scalar(other);
        return Copysign(t);
    }

    /// <summary>True where the sign bit is set: negative numbers and -0.0 (<c>torch.signbit</c>).</summary>
    public Tensor Signbit()
    {
        if (!DType.IsFloatingPoint()) return Lt(0);
        // -0.0 is the zero whose reciprocal is -inf.
        using var negative = Lt(0);
        using var zero = Eq(0);
        using var reciprocal = Reciprocal();
        using var negativeReciprocal = reciprocal.Lt(0);
        using var negativeZero = zero.BitwiseAnd(negativeReciprocal);
        return negative.BitwiseOr(negativeZero);
    }

    /// <summary>sin(πx)/(πx), 1 at 0 (<c>torch.sinc</c>, the normalized sinc).</summary>
    public Tensor Sinc()
    {
        if (!DType.IsFloatingPoint())
        {
            using var wide = To(DTypes.Default);
            return wide.Sinc();
        }
        // At 0 the formula reads x as 1, so neither it nor its gradient divides 0 by 0; the gradient there is 0, as PyTorch's.
        using var zero = Eq(0);
        using var one = Full([], 1, DType, Device);
        using var safe = Where(zero, one, this);
        using var angle = safe.Mul(Math.PI);
        using var sine = angle.Sin();
        using var ratio = sine.Div(angle);
        return Where(zero, one, ratio);
    }

    /// <summary>Degrees to radians (<c>torch.deg2rad</c>).</summary>
    public Tensor Deg2rad() => ScaledAsFloat(Math.PI / 180);

    /// <summary>Radians to degrees (<c>torch.rad2deg</c>).</summary>
    public Tensor Rad2deg() => ScaledAsFloat(180 / Math.PI);

    Tensor ScaledAsFloat(double factor)
    {
        if (DType.IsFloatingPoint()) return Mul(factor);
        using var wide = To(DTypes.Default);
        return wide.Mul(factor);
    }

    /// <summary>The step function: 0 for x &lt; 0, <paramref name="values"/> at 0, 1 for x &gt; 0 (<c>torch.heaviside</c>).</summary>
    public Tensor Heaviside(Tensor values)
    {
        const string op = "heaviside";
        if (values.DType != DType)
            throw new KilnException(op, $"{op}: is not yet implemented for tensors with different dtypes ({DType} and {values.DType})", KilnErrorKind.DType);
        using var zero = Eq(0);
        using var positive = Gt(0);
        using var step = positive.To(DType);
        return Where(zero, values, step);
    }

    /// <summary>x to the power y in float64 (<c>torch.float_power</c>).</summary>
    public Tensor FloatPower(Tensor exponent)
    {
        using var x = To(DType.Float64);
        using var y = exponent.To(DType.Float64);
        return x.Pow(y);
    }

    /// <summary>x to the power of a number, in float64 (<c>torch.float_power</c>).</summary>
    public Tensor FloatPower(double exponent)
    {
        using var x = To(DType.Float64);
        return x.Pow(exponent);
    }

    /// <summary>
    /// The quotient rounded down (<c>torch.floor_divide</c>, Python's //): floor(x / y) for floats; for integers exact
    /// (x − x mod y) / y in the integer dtype.
    /// </summary>
    public Tensor FloorDivide(Tensor other)
    {
        var rt = ResultType(this, other);
        if (rt.IsFloatingPoint())
        {
            using var q = Div(other);
            return q.Floor();
        }
        // x − (x mod y) is a multiple of y; the division of multiples is exact in float64 up to 2^53.
        using var r = Remainder(other);
        using var multiple = Sub(r);
        using var wide = multiple.To(DType.Float64);
        using var divisor = other.To(DType.Float64);
        using var q64 = wide.Div(divisor);
        return q64.To(rt);
    }

    /// <summary>The quotient by a number rounded down (Python's //).</summary>
    public Tensor FloorDivide(double other)
    {
        using var t = DType.IsFloatingPoint() || other != Math.Floor(other) ? Scalar(other) : Scalar((long)other);
        return FloorDivide(t);
    }

    /// <summary>log2(2ˣ + 2ʸ) without overflow (<c>torch.logaddexp2</c>).</summary>
    public Tensor Logaddexp2(Tensor other)
    {
        using var a = Mul(Math.Log(2));
        using var b = other.Mul(Math.Log(2));
        using var natural = a.Logaddexp(b);
        return natural.Div(Math.Log(2));
    }

    /// <summary>True where both are non-zero (<c>torch.logical_and</c>).</summary>
    public Tensor LogicalAnd(Tensor other)
    {
        using var a = Ne(0);
        using var b = other.Ne(0);
        return a.BitwiseAnd(b);
    }

    /// <summary>True where either is non-zero (<c>torch.logical_or</c>).</summary>
    public Tensor LogicalOr(Tensor other)
    {
        using var a = Ne(0);
        using var b = other.Ne(0);
        return a.BitwiseOr(b);
    }

    /// <summary>True where exactly one is non-zero (<c>torch.logical_xor</c>).</summary>
    public Tensor LogicalXor(Tensor other)
    {
        using var a = Ne(0);
        using var b = other.Ne(0);
        return a.Ne(b);
    }

    /// <summary>x · 2^<paramref name="other"/> (<c>torch.ldexp</c>), in a floating dtype.</summary>
    public Tensor Ldexp(Tensor other)
    {
        using var two = Full([], 2.0, DType.IsFloatingPoint() ? DType : DTypes.Default, Device);
        using var scale = two.Pow(other);
        return Mul(scale);
    }

    /// <summary>
    /// x split as mantissa · 2^exponent with 0.5 ≤ |mantissa| &lt; 1 (<c>torch.frexp</c>); zero, infinities and NaN keep
    /// their value with exponent 0. The exponent is int32; the mantissa's gradient is 2^-exponent.
    /// </summary>
    public (Tensor Mantissa, Tensor Exponent) Frexp()
    {
        if (!DType.IsFloatingPoint())
            throw new KilnException("frexp", $"frexp: torch.frexp() only supports floating-point dtypes, got {DType}", KilnErrorKind.DType);
        Tensor exponent;
        using (Autograd.NoGrad())
        {
            // floor(log2 |x|) + 1 in float64, where every float32 and float16 value (subnormals too) is a normal number.
            using var wide = To(DType.Float64);
            using var magnitude = wide.Abs();
            using var log = magnitude.Log2();
            using var floor = log.Floor();
            using var e = floor + 1.0;
            using var finite = wide.IsFinite();
            using var nonZero = wide.Ne(0);
            using var regular = finite.BitwiseAnd(nonZero);
            using var zero = Zeros([], DType.Float64, Device);
            using var kept = Where(regular, e, zero);
            exponent = kept.To(DType.Int32);
        }
        using var negated = exponent.Neg();
        using var scale = Ldexp(negated);
        return (scale, exponent);
    }

    /// <summary>
    /// Each slice along <paramref name="dim"/> whose p-norm exceeds <paramref name="maxnorm"/> scaled down to it
    /// (<c>torch.renorm</c>: by maxnorm / (norm + 1e-7)); the others unchanged.
    /// </summary>
    public Tensor Renorm(double p, int dim, double maxnorm)
    {
        using var scope = Tensor.Scope();
        const string op = "renorm";
        if (!(p > 0)) throw new KilnException(op, $"{op}: non-positive-norm not supported, got p = {p}", KilnErrorKind.Argument);
        if (maxnorm < 0) throw new KilnException(op, $"{op}: expected maxnorm to be >= 0 but got {maxnorm}", KilnErrorKind.Argument);
        if (Dim <= 1) throw new KilnException(op, $"{op}: input needs at least 2 dimensions, got {Dim} dimensions", KilnErrorKind.Shape);
        int d = Compiler.Shapes.ShapeRules.NormalizeDim(op, dim, Dim);
        var others = new int[Dim - 1];
        for (int i = 0, k = 0; i < Dim; i++) if (i != d) others[k++] = i;
        using var norms = Norm(p, others, keepDim: true);
        using var over = norms.Gt(maxnorm);
        using var shrink = maxnorm / (norms + 1e-7);
        using var one = OnesLike(norms);
        using var factor = Where(over, shrink, one);
        return scope.Keep(Mul(factor));
    }
}
