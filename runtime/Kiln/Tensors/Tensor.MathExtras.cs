using System;
using System.Collections.Generic;
using Kiln.Kernels.Elementwise;

namespace Kiln;

// More of torch's pointwise and set functions: NaN-ignoring maximum and minimum, integer gcd and lcm, nextafter, isin,
// aminmax, positive and fix. The float ones compose existing ops (their gradients are those ops'); gcd, lcm and
// nextafter are integer or step functions with no gradient, run by elementwise kernels.
public sealed partial class Tensor
{
    /// <summary>
    /// The larger of each pair, ignoring a NaN (<c>torch.fmax</c>): NaN only where both are. The gradient goes to the
    /// chosen element (to this one on ties), as PyTorch's.
    /// </summary>
    public Tensor Fmax(Tensor other) => NanIgnoring(other, larger: true);

    /// <summary>The smaller of each pair, ignoring a NaN (<c>torch.fmin</c>).</summary>
    public Tensor Fmin(Tensor other) => NanIgnoring(other, larger: false);

    Tensor NanIgnoring(Tensor other, bool larger)
    {
        using var beats = larger ? Ge(other) : Le(other);
        using var otherNan = other.IsNan();
        using var keepThis = beats.BitwiseOr(otherNan);
        return Where(keepThis, this, other);
    }

    /// <summary>The greatest common divisor of integers, never negative; gcd(0, 0) = 0 (<c>torch.gcd</c>).</summary>
    public Tensor Gcd(Tensor other) => IntegerPair("gcd", other, new GcdOp());

    /// <summary>The least common multiple of integers, never negative; 0 when either is 0 (<c>torch.lcm</c>).</summary>
    public Tensor Lcm(Tensor other) => IntegerPair("lcm", other, new LcmOp());

    Tensor IntegerPair<TOp>(string op, Tensor other, TOp kernel) where TOp : struct, IBinaryOp
    {
        if (!DType.IsInteger() || !other.DType.IsInteger())
            throw new KilnException(op, $"{op}: only integer tensors are supported, got {DType} and {other.DType}", KilnErrorKind.DType);
        return OnHost(op, other, kernel);
    }

    /// <summary>An elementwise kernel the CUDA backend has no code for (integer number theory, bit steps): a CUDA
    /// operand runs on the host and the result goes back.</summary>
    Tensor OnHost<TOp>(string op, Tensor other, TOp kernel) where TOp : struct, IBinaryOp
    {
        if (!IsCuda && !other.IsCuda) return MapBinary(op, this, other, kernel);
        using var a = Cpu();
        using var b = other.Cpu();
        using var result = MapBinary(op, a, b, kernel);
        return result.To(IsCuda ? Device : other.Device);
    }

    /// <summary>The next representable value after each element towards <paramref name="other"/> (<c>torch.nextafter</c>).</summary>
    public Tensor Nextafter(Tensor other)
    {
        const string op = "nextafter";
        if (DType is not (DType.Float32 or DType.Float64) || other.DType != DType)
            throw new KilnException(op, $"{op}: expected two float32 or two float64 tensors, got {DType} and {other.DType}", KilnErrorKind.DType);
        using var grad = GradMode.Set(false);
        return OnHost(op, other, new NextafterOp());
    }

    /// <summary>
    /// Whether each element occurs in <paramref name="testElements"/> (<c>torch.isin</c>), or does not with
    /// <paramref name="invert"/>; a bool tensor of this shape. NaN is in no set.
    /// </summary>
    public Tensor Isin(Tensor testElements, bool invert = false)
    {
        using var scope = Tensor.Scope();
        using var grad = GradMode.Set(false);
        using var wanted = testElements.To(Device.Cpu).To(DType.Float64).Contiguous();
        var set = new HashSet<double>(wanted.ToArray<double>());
        using var mine = To(Device.Cpu).To(DType.Float64).Contiguous();
        var values = mine.ToArray<double>();
        var hits = new bool[values.Length];
        for (int i = 0; i < hits.Length; i++)
        {
            bool found = !double.IsNaN(values[i]) && set.Contains(values[i]);   // .NET's Equals would match NaN with NaN
            hits[i] = found != invert;
        }
        using var host = From(hits, (int[])_shape.Clone());
        return scope.Keep(host.To(Device));
    }

    /// <summary>The minimum and maximum together (<c>torch.aminmax</c>), over every element or along <paramref name="dim"/>.</summary>
    public (Tensor Min, Tensor Max) Aminmax(int? dim = null, bool keepDim = false) =>
        dim is { } d ? (Amin(d, keepDim), Amax(d, keepDim)) : (Amin(null, keepDim), Amax(null, keepDim));

    /// <summary>This tensor unchanged (<c>torch.positive</c>, unary plus); bool tensors are refused, as in PyTorch.</summary>
    public Tensor Positive() => DType == DType.Bool
        ? throw new KilnException("positive", "positive: the + operator on a bool tensor is not supported", KilnErrorKind.DType)
        : To(DType);

    /// <summary>Rounds towards zero (<c>torch.fix</c>, the same as <see cref="Trunc"/>).</summary>
    public Tensor Fix() => Trunc();
}
