using System;

namespace Kiln.Distributions;

/// <summary>The Laplace distribution with location and scale (<c>torch.distributions.Laplace</c>).</summary>
public sealed class Laplace : Distribution
{
    /// <summary>Laplace distributions centred at <paramref name="loc"/> with <paramref name="scale"/>, broadcast.</summary>
    public Laplace(Tensor loc, Tensor scale) : this(Broadcast("Laplace", loc, scale)) { }

    Laplace((Tensor Loc, Tensor Scale) p) : base(p.Loc.ShapeArray, [])
    {
        Loc = p.Loc;
        Scale = p.Scale;
        CheckParameters(("loc", Loc, Constraints.Real), ("scale", Scale, Constraints.Positive));
    }

    /// <summary>The locations (medians).</summary>
    public Tensor Loc { get; }

    /// <summary>The scales.</summary>
    public Tensor Scale { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Loc.To(Loc.DType);

    /// <inheritdoc/>
    public override Tensor Variance => Scale.Square() * 2.0;

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>loc - scale·sign(u)·log(1 - |u|) with u ~ U(-1, 1).</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var unit = StandardUniform(ExtendedShape(sampleShape), Loc, generator);
        double eps = Loc.DType.Eps();
        using var u = unit * (2.0 - eps) - (1.0 - eps);                     // (-1, 1), as PyTorch's open interval
        using var magnitude = u.Abs();
        using var rest = magnitude.Neg();
        using var log = rest.Log1p();
        using var sign = u.Sign();
        using var offset = Scale * sign * log;
        return Loc - offset;
    }

    /// <summary>loc.</summary>
    public override Tensor Mode => Loc.Expand(BatchShape).Contiguous();

    /// <summary>-log(2·scale) - |x - loc|/scale.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var diff = value - Loc;
        using var distance = diff.Abs();
        using var scaled = distance / Scale;
        using var twice = Scale * 2.0;
        using var logTwice = twice.Log();
        return (-logTwice) - scaled;
    }

    /// <summary>1 + log(2·scale).</summary>
    public override Tensor Entropy()
    {
        using var twice = Scale * 2.0;
        using var logTwice = twice.Log();
        return logTwice + 1.0;
    }

    /// <summary>½ - ½·sign(x - loc)·expm1(-|x - loc|/scale).</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var diff = value - Loc;
        using var sign = diff.Sign();
        using var distance = diff.Abs();
        using var scaled = distance / Scale;
        using var negative = scaled.Neg();
        using var tail = negative.Expm1();
        using var signed = sign * tail;
        return 0.5 - 0.5 * signed;
    }

    /// <summary>loc - scale·sign(p - ½)·log1p(-2|p - ½|).</summary>
    public override Tensor Icdf(Tensor value)
    {
        using var term = value - 0.5;
        using var sign = term.Sign();
        using var magnitude = term.Abs();
        using var rest = magnitude * -2.0;
        using var log = rest.Log1p();
        using var offset = Scale * sign * log;
        return Loc - offset;
    }
}
