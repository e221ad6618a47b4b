using System;

namespace Kiln.Distributions;

/// <summary>
/// |X| for X of a distribution symmetric about 0 (PyTorch's HalfNormal and HalfCauchy: the base through an absolute-value
/// transform): twice the base's density on [0, ∞), none below; cdf 2F(x) - 1; icdf F⁻¹((p + 1)/2).
/// </summary>
public abstract class FoldedDistribution : Distribution
{
    private protected FoldedDistribution(Distribution symmetric, Tensor scale) : base(symmetric.BatchShape, [])
    {
        Base = symmetric;
        Scale = scale;
    }

    /// <summary>The symmetric distribution folded (centred at 0).</summary>
    public Distribution Base { get; }

    /// <summary>The base's scale.</summary>
    public Tensor Scale { get; }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>|x| for x drawn from the base.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var x = Base.RSample(sampleShape, generator);
        return x.Abs();
    }

    /// <summary>0.</summary>
    public override Tensor Mode => Tensor.ZerosLike(Scale);

    /// <summary>The base's log density + log 2 at x ≥ 0; -inf below.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var baseLog = Base.LogProb(value);
        using var doubled = baseLog + Math.Log(2);
        using var inside = value.Ge(0);
        using var minusInf = Tensor.Full([], double.NegativeInfinity, doubled.DType, doubled.Device);
        return Tensor.Where(inside, doubled, minusInf);
    }

    /// <summary>The base's entropy - log 2.</summary>
    public override Tensor Entropy()
    {
        using var entropy = Base.Entropy();
        return entropy - Math.Log(2);
    }

    /// <summary>2F(x) - 1 with F the base's cdf.</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var f = Base.Cdf(value);
        return f * 2.0 - 1.0;
    }

    /// <summary>F⁻¹((p + 1)/2).</summary>
    public override Tensor Icdf(Tensor value)
    {
        using var upper = (value + 1.0) * 0.5;
        return Base.Icdf(upper);
    }

    /// <summary>Zeros like <paramref name="scale"/>, the folded base's location.</summary>
    private protected static Tensor Centre(Tensor scale)
    {
        if (!scale.DType.IsFloatingPoint())
            throw new KilnException("scale", $"scale must be floating point, got {scale.DType}", KilnErrorKind.DType);
        return Tensor.ZerosLike(scale);
    }

    /// <summary>x ≥ 0.</summary>
    public override Constraint Support => Constraints.Nonnegative;
}
