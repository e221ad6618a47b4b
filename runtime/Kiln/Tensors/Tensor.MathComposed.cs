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
}
