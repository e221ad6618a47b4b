using System;

namespace Kiln.Distributions;

/// <summary>The Cauchy (Lorentz) distribution with location and scale (<c>torch.distributions.Cauchy</c>); it has no mean or variance.</summary>
public sealed class Cauchy : Distribution
{
    /// <summary>Cauchy distributions centred at <paramref name="loc"/> with half-width <paramref name="scale"/>, broadcast.</summary>
    public Cauchy(Tensor loc, Tensor scale) : this(Broadcast("Cauchy", loc, scale)) { }

    Cauchy((Tensor Loc, Tensor Scale) p) : base(p.Loc.ShapeArray, [])
    {
        Loc = p.Loc;
        Scale = p.Scale;
        CheckParameters(("loc", Loc, Constraints.Real), ("scale", Scale, Constraints.Positive));
    }

    /// <summary>The locations (medians).</summary>
    public Tensor Loc { get; }

    /// <summary>The scales (half widths at half maximum).</summary>
    public Tensor Scale { get; }

    /// <summary>Undefined: NaN, as PyTorch.</summary>
    public override Tensor Mean => Filled(double.NaN, Loc);

    /// <summary>Infinite, as PyTorch.</summary>
    public override Tensor Variance => Filled(double.PositiveInfinity, Loc);

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>loc + scale·tan(π(u - ½)) with u ~ U[0, 1): the inverse cdf of uniform noise.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var u = StandardUniform(ExtendedShape(sampleShape), Loc, generator);
        return Icdf(u);
    }

    /// <summary>loc.</summary>
    public override Tensor Mode => Loc.Expand(BatchShape).Contiguous();

    /// <summary>-log π - log scale - log1p(((x - loc)/scale)²).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var diff = value - Loc;
        using var z = diff / Scale;
        using var squared = z.Square();
        using var log1p = squared.Log1p();
        using var logScale = Scale.Log();
        using var sum = logScale + log1p;
        return sum.Neg() - Math.Log(Math.PI);
    }

    /// <summary>log 4π + log scale.</summary>
    public override Tensor Entropy()
    {
        using var logScale = Scale.Log();
        return logScale + Math.Log(4 * Math.PI);
    }

    /// <summary>atan((x - loc)/scale)/π + ½.</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var diff = value - Loc;
        using var z = diff / Scale;
        using var angle = z.Atan();
        return angle / Math.PI + 0.5;
    }

    /// <summary>loc + scale·tan(π(p - ½)).</summary>
    public override Tensor Icdf(Tensor value)
    {
        using var centred = value - 0.5;
        using var angle = centred * Math.PI;
        using var tangent = angle.Tan();
        using var scaled = tangent * Scale;
        return scaled + Loc;
    }
}
