using System;

namespace Kiln.Distributions;

/// <summary>The normal distribution N(loc, scale²) (<c>torch.distributions.Normal</c>); loc and scale broadcast.</summary>
public sealed class Normal : Distribution
{
    /// <summary>Normals with means <paramref name="loc"/> and standard deviations <paramref name="scale"/>.</summary>
    public Normal(Tensor loc, Tensor scale) : this(Broadcast("Normal", loc, scale)) { }

    /// <summary>One normal of numbers.</summary>
    public Normal(double loc, double scale) : this(Tensor.Scalar(loc).Float(), Tensor.Scalar(scale).Float()) { }

    Normal((Tensor Loc, Tensor Scale) p) : base(p.Loc.ShapeArray, [])
    {
        Loc = p.Loc;
        Scale = p.Scale;
        CheckParameters(("loc", Loc, Constraints.Real), ("scale", Scale, Constraints.Positive));
    }

    /// <summary>The means.</summary>
    public Tensor Loc { get; }

    /// <summary>The standard deviations.</summary>
    public Tensor Scale { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Loc.To(Loc.DType);

    /// <inheritdoc/>
    public override Tensor Variance => Scale.Square();

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>loc + scale·ε with ε ~ N(0, 1).</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var eps = StandardNormal(ExtendedShape(sampleShape), Loc, generator);
        using var scaled = eps.Mul(Scale);
        return scaled.Add(Loc);
    }

    /// <summary>loc.</summary>
    public override Tensor Mode => Loc.Expand(BatchShape).Contiguous();

    /// <summary>-(x - loc)²/(2·scale²) - log scale - ½·log 2π.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var diff = value - Loc;
        using var squared = diff.Square();
        using var variance = Scale.Square();
        using var quadratic = squared / (variance * 2.0);
        using var logScale = Scale.Log();
        using var sum = quadratic + logScale;
        return sum.Neg() - 0.5 * Math.Log(2 * Math.PI);
    }

    /// <summary>½ + ½·log 2π + log scale.</summary>
    public override Tensor Entropy()
    {
        using var logScale = Scale.Log();
        return logScale + (0.5 + 0.5 * Math.Log(2 * Math.PI));
    }

    /// <summary>The cumulative distribution function, ½·(1 + erf((x - loc)/(scale·√2))).</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var diff = value - Loc;
        using var z = diff / (Scale * Math.Sqrt(2));
        using var erf = z.Erf();
        return (erf + 1.0) * 0.5;
    }

    /// <summary>The inverse cumulative distribution function, loc + scale·√2·erfinv(2p - 1).</summary>
    public override Tensor Icdf(Tensor value)
    {
        using var centred = value * 2.0 - 1.0;
        using var inverse = centred.Erfinv();
        using var scaled = inverse * Scale * Math.Sqrt(2);
        return scaled + Loc;
    }
}
