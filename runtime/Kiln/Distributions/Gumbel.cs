using System;

namespace Kiln.Distributions;

/// <summary>The Gumbel (type-I extreme value) distribution with location and scale (<c>torch.distributions.Gumbel</c>).</summary>
public sealed class Gumbel : Distribution
{
    /// <summary>The Euler–Mascheroni constant γ, the standard Gumbel's mean.</summary>
    internal const double EulerGamma = 0.57721566490153286060;

    /// <summary>Gumbel distributions at <paramref name="loc"/> with <paramref name="scale"/>, broadcast.</summary>
    public Gumbel(Tensor loc, Tensor scale) : this(Broadcast("Gumbel", loc, scale)) { }

    Gumbel((Tensor Loc, Tensor Scale) p) : base(p.Loc.ShapeArray, [])
    {
        Loc = p.Loc;
        Scale = p.Scale;
        CheckParameters(("loc", Loc, Constraints.Real), ("scale", Scale, Constraints.Positive));
    }

    /// <summary>The locations (modes).</summary>
    public Tensor Loc { get; }

    /// <summary>The scales.</summary>
    public Tensor Scale { get; }

    /// <summary>loc + γ·scale.</summary>
    public override Tensor Mean
    {
        get
        {
            using var shift = Scale * EulerGamma;
            return Loc + shift;
        }
    }

    /// <summary>π²/6 · scale².</summary>
    public override Tensor Variance
    {
        get
        {
            using var square = Scale.Square();
            return square * (Math.PI * Math.PI / 6);
        }
    }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>loc - scale·log(-log u) with u uniform on [tiny, 1 - eps], PyTorch's clamp of the uniform base.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var unit = StandardUniform(ExtendedShape(sampleShape), Loc, generator);
        using var u = unit.Clamp(Loc.DType.Tiny(), 1 - Loc.DType.Eps());
        return Icdf(u);
    }

    /// <summary>loc.</summary>
    public override Tensor Mode => Loc.Expand(BatchShape).Contiguous();

    /// <summary>z - exp(z) - log scale with z = (loc - x)/scale.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var diff = Loc - value;
        using var z = diff / Scale;
        using var exp = z.Exp();
        using var logScale = Scale.Log();
        using var kernel = z - exp;
        return kernel - logScale;
    }

    /// <summary>log scale + 1 + γ.</summary>
    public override Tensor Entropy()
    {
        using var logScale = Scale.Log();
        return logScale + (1 + EulerGamma);
    }

    /// <summary>exp(-exp(-(x - loc)/scale)).</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var diff = Loc - value;
        using var z = diff / Scale;
        using var exp = z.Exp();
        using var negative = exp.Neg();
        return negative.Exp();
    }

    /// <summary>loc - scale·log(-log p).</summary>
    public override Tensor Icdf(Tensor value)
    {
        using var log = value.Log();
        using var negative = log.Neg();
        using var outer = negative.Log();
        using var scaled = Scale * outer;
        return Loc - scaled;
    }
}
