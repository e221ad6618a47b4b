using Kiln.Compiler.Shapes;

namespace Kiln;

// NaN-aware functions (nan_to_num, nansum, nanmean), composed of recorded ops: a replaced or skipped element gets no gradient.
public sealed partial class Tensor
{
    /// <summary>
    /// NaN replaced by <paramref name="nan"/>, +inf by <paramref name="posinf"/> and -inf by <paramref name="neginf"/>; the
    /// infinities default to the dtype's largest and lowest finite values (<c>torch.nan_to_num</c>). Integer tensors are copied.
    /// </summary>
    public Tensor NanToNum(double nan = 0, double? posinf = null, double? neginf = null)
    {
        if (!DType.IsFloatingPoint()) return Clone();
        using var isNan = IsNan();
        using var isPos = Eq(double.PositiveInfinity);
        using var isNeg = Eq(double.NegativeInfinity);
        using var nanValue = Full([], nan, DType, Device);
        using var posValue = Full([], posinf ?? DType.MaxValue(), DType, Device);
        using var negValue = Full([], neginf ?? DType.MinValue(), DType, Device);
        using var a = Where(isNeg, negValue, this);
        using var b = Where(isPos, posValue, a);
        return Where(isNan, nanValue, b);
    }

    /// <summary>Sum over <paramref name="dims"/> (all when null) treating NaN as zero (<c>torch.nansum</c>).</summary>
    public Tensor Nansum(int[]? dims = null, bool keepDim = false, DType? dtype = null)
    {
        using var clean = NanAsZero();
        return clean.Sum(dims, keepDim, dtype);
    }

    /// <summary>Sum over <paramref name="dim"/> treating NaN as zero.</summary>
    public Tensor Nansum(int dim, bool keepDim = false) => Nansum([dim], keepDim);

    /// <summary>Mean over <paramref name="dims"/> (all when null) of the values that are not NaN (<c>torch.nanmean</c>); NaN where all are.</summary>
    public Tensor Nanmean(int[]? dims = null, bool keepDim = false)
    {
        const string op = "nanmean";
        if (!DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: expected a floating point input, got {DType}", KilnErrorKind.DType);
        using var sum = Nansum(dims, keepDim);
        using var isNan = IsNan();
        using var kept = isNan.LogicalNot();
        using var count = kept.Sum(dims, keepDim, DType);
        return sum.Div(count);
    }

    /// <summary>Mean over <paramref name="dim"/> of the values that are not NaN.</summary>
    public Tensor Nanmean(int dim, bool keepDim = false) => Nanmean([dim], keepDim);

    Tensor NanAsZero()
    {
        if (!DType.IsFloatingPoint()) return To(DType);
        using var isNan = IsNan();
        using var zero = Full([], 0, DType, Device);
        return Where(isNan, zero, this);
    }
}
