namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>True for a 0-dim tensor made from a C# number; it promotes like a Python scalar.</summary>
    internal bool IsWrappedNumber { get; init; }

    /// <summary>
    /// PyTorch's <c>torch.result_type</c>: dimensioned tensors decide, 0-dim tensors and C# numbers only
    /// lift the category (bool &lt; integer &lt; floating).
    /// </summary>
    public static DType ResultType(params Tensor[] operands)
    {
        DType? dim = null, zero = null, wrapped = null;
        foreach (var t in operands)
        {
            if (t.IsWrappedNumber)
            {
                var cur = t.DType.IsFloatingPoint() ? DTypes.Default : t.DType;
                wrapped = wrapped is { } w ? DTypes.Promote(w, cur) : cur;
            }
            else if (t.Dim == 0) zero = zero is { } z ? DTypes.Promote(z, t.DType) : t.DType;
            else dim = dim is { } d ? DTypes.Promote(d, t.DType) : t.DType;
        }
        var r = Combine(Combine(dim, zero), wrapped);
        return r ?? DTypes.Default;
    }

    static DType? Combine(DType? higher, DType? lower)
    {
        if (higher is not { } h) return lower;
        if (lower is not { } l) return h;
        if (h.IsFloatingPoint()) return h;
        if (h == DType.Bool || l.IsFloatingPoint()) return DTypes.Promote(h, l);
        return h;
    }
}
