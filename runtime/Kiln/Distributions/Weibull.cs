namespace Kiln.Distributions;

/// <summary>
/// The two-parameter Weibull distribution with scale λ and concentration (shape) k (<c>torch.distributions.Weibull</c>):
/// λ·E^(1/k) for E a standard exponential, so samples are reparameterized.
/// </summary>
public sealed class Weibull : TransformedDistribution
{
    /// <summary>Weibulls with <paramref name="scale"/> λ and <paramref name="concentration"/> k, broadcast.</summary>
    public Weibull(Tensor scale, Tensor concentration) : this(Broadcast("Weibull", scale, concentration)) { }

    Weibull((Tensor Scale, Tensor Concentration) p)
        : base(new Exponential(Tensor.OnesLike(p.Scale)), new PowerTransform(p.Concentration.Reciprocal()), new AffineTransform(Tensor.Zeros([], p.Scale.DType, p.Scale.Device), p.Scale))
    {
        Scale = p.Scale;
        Concentration = p.Concentration;
        CheckParameters(("scale", Scale, Constraints.Positive), ("concentration", Concentration, Constraints.Positive));
    }

    /// <summary>The scales λ.</summary>
    public Tensor Scale { get; }

    /// <summary>The concentrations (shapes) k.</summary>
    public Tensor Concentration { get; }

    /// <summary>λ·Γ(1 + 1/k).</summary>
    public override Tensor Mean
    {
        get
        {
            using var inverse = Concentration.Reciprocal();
            using var arg = inverse + 1.0;
            using var lgamma = arg.Lgamma();
            using var gamma = lgamma.Exp();
            return Scale * gamma;
        }
    }

    /// <summary>λ²·(Γ(1 + 2/k) - Γ(1 + 1/k)²).</summary>
    public override Tensor Variance
    {
        get
        {
            using var inverse = Concentration.Reciprocal();
            using var arg1 = inverse + 1.0;
            using var arg2 = inverse * 2.0 + 1.0;
            using var lg1 = arg1.Lgamma();
            using var lg2 = arg2.Lgamma();
            using var second = lg2.Exp();
            using var twice = lg1 * 2.0;
            using var firstSquared = twice.Exp();
            using var spread = second - firstSquared;
            using var scale2 = Scale.Square();
            return scale2 * spread;
        }
    }

    /// <summary>γ·(1 - 1/k) + log(λ/k) + 1.</summary>
    public override Tensor Entropy()
    {
        using var inverse = Concentration.Reciprocal();
        using var rest = 1.0 - inverse;
        using var euler = rest * Gumbel.EulerGamma;
        using var ratio = Scale * inverse;
        using var log = ratio.Log();
        using var sum = euler + log;
        return sum + 1.0;
    }

    /// <summary>λ·((k - 1)/k)^(1/k) (NaN for k &lt; 1, as PyTorch's formula gives).</summary>
    public override Tensor Mode
    {
        get
        {
            using var less = Concentration - 1.0;
            using var ratio = less / Concentration;
            using var inverse = Concentration.Reciprocal();
            using var power = ratio.Pow(inverse);
            return Scale * power;
        }
    }

    /// <summary>x > 0.</summary>
    public override Constraint Support => Constraints.Positive;
}
