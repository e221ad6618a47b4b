using System;

namespace Kiln.Distributions;

/// <summary>
/// Student's t distribution with <c>df</c> degrees of freedom, location and scale (<c>torch.distributions.StudentT</c>).
/// Draws are a normal over the root of a chi-squared draw (from the host's gamma sampler), so they are not
/// reparameterized here.
/// </summary>
public sealed class StudentT : Distribution
{
    /// <summary>t distributions of <paramref name="df"/> degrees of freedom at <paramref name="loc"/> (0) with <paramref name="scale"/> (1), broadcast.</summary>
    public StudentT(Tensor df, Tensor? loc = null, Tensor? scale = null) : this(Parameters(df, loc, scale)) { }

    StudentT((Tensor Df, Tensor Loc, Tensor Scale) p) : base(p.Df.ShapeArray, [])
    {
        Df = p.Df;
        Loc = p.Loc;
        Scale = p.Scale;
        CheckParameters(("df", Df, Constraints.Positive), ("loc", Loc, Constraints.Real), ("scale", Scale, Constraints.Positive));
    }

    /// <summary>The degrees of freedom ν.</summary>
    public Tensor Df { get; }

    /// <summary>The locations.</summary>
    public Tensor Loc { get; }

    /// <summary>The scales.</summary>
    public Tensor Scale { get; }

    /// <summary>loc where ν &gt; 1, NaN elsewhere (PyTorch's value).</summary>
    public override Tensor Mean
    {
        get
        {
            using var defined = Df.Gt(1);
            using var nan = Tensor.Full([], double.NaN, Loc.DType, Loc.Device);
            return Tensor.Where(defined, Loc, nan);
        }
    }

    /// <summary>scale²·ν/(ν - 2) where ν &gt; 2, +inf for 1 &lt; ν ≤ 2, NaN for ν ≤ 1.</summary>
    public override Tensor Variance
    {
        get
        {
            using var square = Scale.Square();
            using var less = Df - 2.0;
            using var ratio = Df / less;
            using var finite = square * ratio;
            using var wide = Df.Gt(2);
            using var heavy = Df.Gt(1);
            using var inf = Tensor.Full([], double.PositiveInfinity, Loc.DType, Loc.Device);
            using var nan = Tensor.Full([], double.NaN, Loc.DType, Loc.Device);
            using var infinite = Tensor.Where(heavy, inf, nan);
            return Tensor.Where(wide, finite, infinite);
        }
    }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>loc + scale·z/√(χ²/ν) with z standard normal and χ² ~ Chi2(ν), differentiable in loc, scale and ν.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        var shape = ExtendedShape(sampleShape);
        using var halfDf = Df * 0.5;
        using var shapes = halfDf.Expand(shape);
        using var gamma = Gamma.StandardGammaRSample(shapes, generator);     // Γ(ν/2, 1) = χ²/2
        using var z = StandardNormal(shape, Loc, generator);
        using var chi2 = gamma * 2.0;
        using var perDf = chi2 / Df;
        using var root = perDf.Rsqrt();
        using var t = z * root;
        using var scaled = t * Scale;
        return scaled + Loc;
    }

    /// <summary>loc.</summary>
    public override Tensor Mode => Loc.Expand(BatchShape).Contiguous();

    /// <summary>-(ν + 1)/2 · log1p(y²/ν) - log scale - ½ log ν - ½ log π - log Γ(ν/2) + log Γ((ν + 1)/2), y = (x - loc)/scale.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var diff = value - Loc;
        using var y = diff / Scale;
        using var squared = y.Square();
        using var perDf = squared / Df;
        using var log1p = perDf.Log1p();
        using var plusOne = Df + 1.0;
        using var weight = plusOne * -0.5;
        using var kernel = weight * log1p;
        using var normaliser = Normaliser();
        return kernel - normaliser;
    }

    /// <summary>log scale + (ν + 1)/2 · (ψ((ν + 1)/2) - ψ(ν/2)) + ½ log ν + log B(ν/2, ½).</summary>
    public override Tensor Entropy()
    {
        using var half = Df * 0.5;
        using var halfPlus = (Df + 1.0) * 0.5;
        using var lgammaHalf = half.Lgamma();
        using var lgammaHalfPlus = halfPlus.Lgamma();
        using var lbeta = lgammaHalf - lgammaHalfPlus + 0.5723649429247001;   // log Γ(½) = ½ log π
        using var psiPlus = halfPlus.Digamma();
        using var psiHalf = half.Digamma();
        using var psiGap = psiPlus - psiHalf;
        using var spread = halfPlus * psiGap;
        using var logDf = Df.Log();
        using var logScale = Scale.Log();
        return logScale + spread + logDf * 0.5 + lbeta;
    }

    /// <summary>log scale + ½ log ν + ½ log π + log Γ(ν/2) - log Γ((ν + 1)/2).</summary>
    Tensor Normaliser()
    {
        using var logScale = Scale.Log();
        using var logDf = Df.Log();
        using var half = Df * 0.5;
        using var halfPlus = (Df + 1.0) * 0.5;
        using var lgammaHalf = half.Lgamma();
        using var lgammaHalfPlus = halfPlus.Lgamma();
        return logScale + logDf * 0.5 + 0.5 * Math.Log(Math.PI) + lgammaHalf - lgammaHalfPlus;
    }

    static (Tensor, Tensor, Tensor) Parameters(Tensor df, Tensor? loc, Tensor? scale)
    {
        if (!df.DType.IsFloatingPoint()) throw new KilnException("StudentT", $"StudentT: parameters must be floating point, got {df.DType}", KilnErrorKind.DType);
        loc ??= Tensor.ZerosLike(df);
        scale ??= Tensor.OnesLike(df);
        var (d, l) = Broadcast("StudentT", df, loc);
        var (l2, s) = Broadcast("StudentT", l, scale);
        var (d2, _) = Broadcast("StudentT", d, s);
        return (d2, l2, s);
    }
}
