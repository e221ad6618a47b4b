namespace Kiln.Distributions;

/// <summary>
/// The Pareto (type I) distribution with scale xₘ and shape α (<c>torch.distributions.Pareto</c>): xₘ·exp(E/α) for E a
/// standard exponential, on [xₘ, ∞).
/// </summary>
public sealed class Pareto : TransformedDistribution
{
    /// <summary>Paretos with <paramref name="scale"/> xₘ and shape <paramref name="alpha"/> α, broadcast.</summary>
    public Pareto(Tensor scale, Tensor alpha) : this(Broadcast("Pareto", scale, alpha)) { }

    Pareto((Tensor Scale, Tensor Alpha) p)
        : base(new Exponential(p.Alpha), new ExpTransform(), new AffineTransform(Tensor.Zeros([], p.Scale.DType, p.Scale.Device), p.Scale))
    {
        Scale = p.Scale;
        Alpha = p.Alpha;
        CheckParameters(("scale", Scale, Constraints.Positive), ("alpha", Alpha, Constraints.Positive));
    }

    /// <summary>The scales xₘ (the support's lower end).</summary>
    public Tensor Scale { get; }

    /// <summary>The shapes α.</summary>
    public Tensor Alpha { get; }

    /// <summary>α·xₘ/(α - 1), ∞ for α ≤ 1 (α clamped at 1, as PyTorch).</summary>
    public override Tensor Mean
    {
        get
        {
            using var a = Alpha.ClampMin(1);
            using var top = a * Scale;
            using var bottom = a - 1.0;
            return top / bottom;
        }
    }

    /// <summary>xₘ²·α/((α - 1)²(α - 2)), ∞ for α ≤ 2 (α clamped at 2, as PyTorch).</summary>
    public override Tensor Variance
    {
        get
        {
            using var a = Alpha.ClampMin(2);
            using var scale2 = Scale.Square();
            using var top = scale2 * a;
            using var less1 = a - 1.0;
            using var less1Squared = less1.Square();
            using var less2 = a - 2.0;
            using var bottom = less1Squared * less2;
            return top / bottom;
        }
    }

    /// <summary>log(xₘ/α) + 1 + 1/α.</summary>
    public override Tensor Entropy()
    {
        using var ratio = Scale / Alpha;
        using var log = ratio.Log();
        using var inverse = Alpha.Reciprocal();
        using var sum = log + inverse;
        return sum + 1.0;
    }

    /// <summary>The scale (the density falls from there).</summary>
    public override Tensor Mode => Scale.Expand(BatchShape).Contiguous();

    /// <summary>x ≥ the scale.</summary>
    public override Constraint Support => Constraints.GreaterThanEq(Scale);
}
