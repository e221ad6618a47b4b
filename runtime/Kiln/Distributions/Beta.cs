namespace Kiln.Distributions;

/// <summary>
/// The beta distribution on (0, 1) with concentrations α and β (<c>torch.distributions.Beta</c>); samples are the first
/// coordinate of Dirichlet(α, β) draws, reparameterized as the Dirichlet's are.
/// </summary>
public sealed class Beta : Distribution
{
    /// <summary>Betas with <paramref name="concentration1"/> α and <paramref name="concentration0"/> β, broadcast.</summary>
    public Beta(Tensor concentration1, Tensor concentration0) : this(Broadcast("Beta", concentration1, concentration0)) { }

    Beta((Tensor Alpha, Tensor Beta) p) : base(p.Alpha.ShapeArray, [])
    {
        Concentration1 = p.Alpha;
        Concentration0 = p.Beta;
        CheckParameters(("concentration1", Concentration1, Constraints.Positive), ("concentration0", Concentration0, Constraints.Positive));
    }

    /// <summary>α (the weight of 1).</summary>
    public Tensor Concentration1 { get; }

    /// <summary>β (the weight of 0).</summary>
    public Tensor Concentration0 { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Concentration1 / (Concentration1 + Concentration0);

    /// <inheritdoc/>
    public override Tensor Variance
    {
        get
        {
            using var total = Concentration1 + Concentration0;
            using var product = Concentration1 * Concentration0;
            using var squared = total.Square();
            using var plusOne = total + 1.0;
            return product / (squared * plusOne);
        }
    }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>The first coordinate of a Dirichlet(α, β) draw, differentiable in α and β (PyTorch's construction).</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        var shape = ExtendedShape(sampleShape);
        using var alphas = Concentration1.Expand(shape);
        using var betas = Concentration0.Expand(shape);
        using var pair = Tensor.Stack([alphas, betas], -1);
        using var draws = Dirichlet.RSampleOf(pair, generator);
        return draws.Select(-1, 0);
    }

    /// <summary>The first coordinate of the Dirichlet(α, β) mode (PyTorch's construction).</summary>
    public override Tensor Mode
    {
        get
        {
            using var pair = Tensor.Stack([Concentration1, Concentration0], -1);
            using var mode = Dirichlet.ModeOf(pair);
            return mode.Select(-1, 0);
        }
    }

    /// <summary>(α - 1)·log x + (β - 1)·log(1 - x) - log B(α, β).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var a1 = Concentration1 - 1.0;
        using var b1 = Concentration0 - 1.0;
        using var first = a1.Xlogy(value);
        using var rest = 1.0 - value;
        using var second = b1.Xlogy(rest);
        using var logBeta = LogBeta(Concentration1, Concentration0);
        return first + second - logBeta;
    }

    /// <summary>log B(α, β) - (α - 1)ψ(α) - (β - 1)ψ(β) + (α + β - 2)ψ(α + β).</summary>
    public override Tensor Entropy()
    {
        using var total = Concentration1 + Concentration0;
        using var logBeta = LogBeta(Concentration1, Concentration0);
        using var psiA = Concentration1.Digamma();
        using var psiB = Concentration0.Digamma();
        using var psiTotal = total.Digamma();
        using var a = (Concentration1 - 1.0) * psiA;
        using var b = (Concentration0 - 1.0) * psiB;
        using var c = (total - 2.0) * psiTotal;
        return logBeta - a - b + c;
    }

    /// <summary>log Γ(a) + log Γ(b) - log Γ(a + b).</summary>
    internal static Tensor LogBeta(Tensor a, Tensor b)
    {
        using var la = a.Lgamma();
        using var lb = b.Lgamma();
        using var total = a + b;
        using var lt = total.Lgamma();
        return la + lb - lt;
    }

    /// <summary>0 ≤ x ≤ 1.</summary>
    public override Constraint Support => Constraints.UnitInterval;
}
