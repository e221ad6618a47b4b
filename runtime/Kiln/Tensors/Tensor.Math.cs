using Kiln.Compiler.Shapes;
using Kiln.Kernels.Elementwise;

namespace Kiln;

public sealed partial class Tensor
{
    // floor, ceil, round, trunc, sign, erf, log2, log10, tan, asin, acos, atan: generated from the op table (UnaryOps).

    /// <summary>The angle of (other, this) in radians, quadrant-aware (<c>torch.atan2(self, other)</c>).</summary>
    public Tensor Atan2(Tensor other) => Record("atan2", MapBinary("atan2", this, other, new Atan2Op(), floating: true), null, this, other);

    /// <summary>
    /// The swiglu op, silu(gate)·up (<see cref="NN.F.SwiGlu"/>): one node, one pass, silu computed exactly as the silu op
    /// computes it; its derivative is the op table's rule.
    /// </summary>
    internal static Tensor SwiGlu(Tensor gate, Tensor up) => Record("swiglu", MapBinary("swiglu", gate, up, new SwiGluOp(), floating: true), null, gate, up);

    /// <summary>
    /// log(eˣ + eʸ) without overflow (<c>torch.logaddexp</c>): max(x, y) + log1p(e^-|x - y|); two equal infinities give
    /// themselves.
    /// </summary>
    public Tensor Logaddexp(Tensor other)
    {
        using var same = Eq(other);
        using var infinite = IsInf();
        using var bothInfinite = same.BitwiseAnd(infinite);
        using var peak = Maximum(other);
        // -inf - -inf is NaN: there the gap reads as 0, so neither the value nor the gradient of the unused branch meets a
        // NaN (two -inf give a finite gradient, which a CTC or logcumsumexp recursion over unreachable states needs).
        using var rawGap = this - other;
        using var zero = Full([], 0, rawGap.DType, rawGap.Device);
        using var gap = Where(bothInfinite, zero, rawGap);
        using var distance = gap.Abs();
        using var negated = distance.Neg();
        using var small = negated.Exp();
        using var correction = small.Log1p();
        using var r = peak + correction;
        return Where(bothInfinite, peak, r); // one select, no host read of the mask
    }

    /// <summary>
    /// x·log(y), 0 where x is 0 even when y is 0 (<c>torch.xlogy</c>, entropy terms); NaN where y is NaN.
    /// </summary>
    public Tensor Xlogy(Tensor other)
    {
        // Where x and y are both 0, y is read as 1: log 1 = 0, so neither the value nor x's gradient meets log 0 (x's
        // gradient is log y elsewhere, at x = 0 too, as PyTorch's).
        using var zero = Eq(0);
        using var zeroY = other.Eq(0);
        using var replace = zero.BitwiseAnd(zeroY);
        using var one = Full([], 1, other.DType.IsFloatingPoint() ? other.DType : DTypes.Default, other.Device);
        using var safe = Where(replace, one, other);
        using var log = safe.Log();
        return this * log;
    }

    /// <summary>x·log(y) with a number y (<c>torch.xlogy</c>).</summary>
    public Tensor Xlogy(double y)
    {
        using var t = Scalar(y);
        return Xlogy(t);
    }

    // ---- modulo and bitwise ----------------------------------------------------------------------------------------------

    /// <summary>Python's modulo: the result has the divisor's sign (<c>torch.remainder</c>, the <c>%</c> operator).</summary>
    public Tensor Remainder(Tensor other)
    {
        if (!ResultType(this, other).IsFloatingPoint())
        {
            using var zero = other.Eq(0);
            using var any = zero.Any();
            if (any.Item<bool>()) throw new KilnException("remainder", "remainder: ZeroDivisionError (an integer divisor is zero)");
        }
        return Record("remainder", MapBinary("remainder", this, other, new RemainderOp()), null, this, other);
    }

    /// <summary>Python's modulo by a number.</summary>
    public Tensor Remainder(double other) { using var scalar = Scalar(other); return Remainder(scalar); }

    /// <summary>Bitwise and of integer tensors, logical and of bool ones (<c>&amp;</c>).</summary>
    public Tensor BitwiseAnd(Tensor other) => Bitwise("bitwise_and", other, new BitAndOp());
    /// <summary>Bitwise or of integer tensors, logical or of bool ones (<c>|</c>).</summary>
    public Tensor BitwiseOr(Tensor other) => Bitwise("bitwise_or", other, new BitOrOp());
    /// <summary>Bitwise exclusive or (<c>^</c>).</summary>
    public Tensor BitwiseXor(Tensor other) => Bitwise("bitwise_xor", other, new BitXorOp());

    /// <summary>Each integer shifted left by <paramref name="bits"/> (<c>torch.bitwise_left_shift</c>, <c>&lt;&lt;</c>); a count
    /// at or past the type's width wraps modulo the width of int (long for int64), as PyTorch's x86 CPU kernels do.</summary>
    public Tensor BitwiseLeftShift(Tensor bits) => Shift("bitwise_left_shift", bits, new ShiftLeftOp());
    /// <summary>Each integer shifted right by <paramref name="bits"/>, arithmetically for signed types (<c>torch.bitwise_right_shift</c>, <c>&gt;&gt;</c>).</summary>
    public Tensor BitwiseRightShift(Tensor bits) => Shift("bitwise_right_shift", bits, new ShiftRightOp());

    Tensor Shift<TOp>(string op, Tensor bits, TOp kernel) where TOp : struct, IBinaryOp
    {
        if (!DType.IsInteger() || !bits.DType.IsInteger())
            throw new KilnException(op, $"{op}: only integer tensors are supported, got {DType} and {bits.DType}", KilnErrorKind.DType);
        return MapBinary(op, this, bits, kernel);
    }

    /// <summary>Bitwise not of an integer tensor, logical not of a bool one (<c>~</c>).</summary>
    public Tensor BitwiseNot()
    {
        if (DType.IsFloatingPoint())
            throw new KilnException("bitwise_not", $"bitwise_not: only integer and bool tensors are supported, got {DType}", KilnErrorKind.DType);
        return DType == DType.Bool ? Eq(0) : MapUnary("bitwise_not", new BitNotOp(), floating: false);
    }

    Tensor Bitwise<TOp>(string op, Tensor other, TOp kernel) where TOp : struct, IBinaryOp
    {
        if (DType.IsFloatingPoint() || other.DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: only integer and bool tensors are supported, got {DType} and {other.DType}", KilnErrorKind.DType);
        return MapBinary(op, this, other, kernel);
    }

    /// <summary>Python's modulo (<c>a % b</c>).</summary>
    public static Tensor operator %(Tensor a, Tensor b) => a.Remainder(b);
    /// <summary>Python's modulo by a number.</summary>
    public static Tensor operator %(Tensor a, double b) { using var scalar = Scalar(b); return a.Remainder(scalar); }
    /// <summary>Python's modulo by an integer (an integer tensor stays integer).</summary>
    public static Tensor operator %(Tensor a, long b) { using var scalar = Scalar(b); return a.Remainder(scalar); }
    /// <summary>Bitwise (or logical) and.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => a.BitwiseAnd(b);
    /// <summary>Bitwise (or logical) or.</summary>
    public static Tensor operator |(Tensor a, Tensor b) => a.BitwiseOr(b);
    /// <summary>Bitwise (or logical) exclusive or.</summary>
    public static Tensor operator ^(Tensor a, Tensor b) => a.BitwiseXor(b);
    /// <summary>Bitwise (or logical) not.</summary>
    public static Tensor operator ~(Tensor a) => a.BitwiseNot();
    /// <summary>Left shift by a tensor of counts.</summary>
    public static Tensor operator <<(Tensor a, Tensor bits) => a.BitwiseLeftShift(bits);
    /// <summary>Right shift by a tensor of counts.</summary>
    public static Tensor operator >>(Tensor a, Tensor bits) => a.BitwiseRightShift(bits);
    /// <summary>Left shift by a count.</summary>
    public static Tensor operator <<(Tensor a, int bits) { using var scalar = Scalar((long)bits); return a.BitwiseLeftShift(scalar); }
    /// <summary>Right shift by a count.</summary>
    public static Tensor operator >>(Tensor a, int bits) { using var scalar = Scalar((long)bits); return a.BitwiseRightShift(scalar); }

    // ---- tests of values ---------------------------------------------------------------------------------------------

    /// <summary>True where an element is NaN (<c>torch.isnan</c>).</summary>
    public Tensor IsNan() => DType.IsFloatingPoint() ? Ne(this) : Full(_shape, 0, DType.Bool, Device);

    /// <summary>True where an element is +∞ or -∞ (<c>torch.isinf</c>).</summary>
    public Tensor IsInf()
    {
        if (!DType.IsFloatingPoint()) return Full(_shape, 0, DType.Bool, Device);
        using var a = Abs();
        return a.Eq(double.PositiveInfinity);
    }

    /// <summary>True where an element is neither NaN nor infinite (<c>torch.isfinite</c>).</summary>
    public Tensor IsFinite()
    {
        if (!DType.IsFloatingPoint()) return Full(_shape, 1, DType.Bool, Device);
        using var a = Abs();
        return a.Lt(double.PositiveInfinity); // NaN compares false
    }

    /// <summary>
    /// |self − other| ≤ atol + rtol·|other| elementwise, equal infinities close, NaNs close only with
    /// <paramref name="equalNan"/> (<c>torch.isclose</c>).
    /// </summary>
    public Tensor IsClose(Tensor other, double rtol = 1e-5, double atol = 1e-8, bool equalNan = false)
    {
        if (rtol < 0 || atol < 0) throw new KilnException("isclose", $"isclose: rtol ({rtol}) and atol ({atol}) must be non-negative");
        using var grad = GradMode.Set(false);
        using var equal = Eq(other);
        if (!ResultType(this, other).IsFloatingPoint()) return equal.Alias();
        using var diff = Sub(other);
        using var absDiff = diff.Abs();
        using var otherAbs = other.Abs();
        using var scaled = otherAbs.Mul(rtol);
        using var tolerance = scaled.Add(atol);
        using var within = absDiff.Le(tolerance);
        using var finite = absDiff.IsFinite();
        using var closeFinite = within.BitwiseAnd(finite);
        var close = equal.BitwiseOr(closeFinite);
        if (!equalNan) return close;
        using (close)
        using (var nanA = IsNan())
        using (var nanB = other.IsNan())
        using (var bothNan = nanA.BitwiseAnd(nanB))
            return close.BitwiseOr(bothNan);
    }

    /// <summary>Whether every element is close (<c>torch.allclose</c>).</summary>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8, bool equalNan = false)
    {
        using var close = IsClose(other, rtol, atol, equalNan);
        using var all = close.All();
        return all.Item<bool>();
    }

    /// <summary>Same shape and the same values (<c>torch.equal</c>).</summary>
    public bool Equal(Tensor other)
    {
        if (!ShapeRules.SameShape(_shape, other._shape)) return false;
        using var grad = GradMode.Set(false);
        using var eq = Eq(other);
        using var all = eq.All();
        return all.Item<bool>();
    }

    // ---- interpolation ----------------------------------------------------------------------------------------------

    /// <summary>self + weight·(end − self) (<c>torch.lerp</c>).</summary>
    public Tensor Lerp(Tensor end, Tensor weight)
    {
        using var span = end.Sub(this);
        using var step = span.Mul(weight);
        return Add(step);
    }

    /// <summary>self + weight·(end − self) with a number weight.</summary>
    public Tensor Lerp(Tensor end, double weight) { using var scalar = Scalar(weight); return Lerp(end, scalar); }

    /// <summary>self + value·t1·t2 (<c>torch.addcmul</c>).</summary>
    public Tensor Addcmul(Tensor tensor1, Tensor tensor2, double value = 1)
    {
        using var scope = Tensor.Scope();
        using var product = tensor1.Mul(tensor2);
        return scope.Keep(Add(product, value));
    }

    /// <summary>self + value·t1/t2 (<c>torch.addcdiv</c>).</summary>
    public Tensor Addcdiv(Tensor tensor1, Tensor tensor2, double value = 1)
    {
        using var scope = Tensor.Scope();
        using var quotient = tensor1.Div(tensor2);
        return scope.Keep(Add(quotient, value));
    }

    // ---- dtype shortcuts --------------------------------------------------------------------------------------------

    /// <summary>As float32 (<c>tensor.float()</c>).</summary>
    public Tensor Float() => To(DType.Float32);
    /// <summary>As float64 (<c>tensor.double()</c>).</summary>
    public Tensor Double() => To(DType.Float64);
    /// <summary>As float16 (<c>tensor.half()</c>).</summary>
    public Tensor Half() => To(DType.Float16);
    /// <summary>As bfloat16 (<c>tensor.bfloat16()</c>).</summary>
    public Tensor BFloat16() => To(DType.BFloat16);
    /// <summary>As int64 (<c>tensor.long()</c>), truncating floats toward zero.</summary>
    public Tensor Long() => To(DType.Int64);
    /// <summary>As int32 (<c>tensor.int()</c>).</summary>
    public Tensor Int() => To(DType.Int32);
    /// <summary>As bool (<c>tensor.bool()</c>): non-zero is true.</summary>
    public Tensor Bool() => To(DType.Bool);
    /// <summary>As uint8 (<c>tensor.byte()</c>).</summary>
    public Tensor Byte() => To(DType.UInt8);
}
