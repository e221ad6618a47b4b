namespace Kiln.Distributions;

/// <summary>The chi-squared distribution with <c>df</c> degrees of freedom, Γ(df/2, rate ½) (<c>torch.distributions.Chi2</c>).</summary>
public sealed class Chi2 : Distribution
{
    readonly Gamma _gamma;

    /// <summary>Chi-squared distributions of <paramref name="df"/> degrees of freedom.</summary>
    public Chi2(Tensor df) : base(df.ShapeArray, [])
    {
        if (!df.DType.IsFloatingPoint()) throw new KilnException("Chi2", $"Chi2: parameters must be floating point, got {df.DType}", KilnErrorKind.DType);
        Df = df;
        CheckParameters(("df", Df, Constraints.Positive));
        _gamma = new Gamma(df * 0.5, Tensor.Full([], 0.5, df.DType, df.Device));
    }

    /// <summary>The same distribution as a Gamma (PyTorch's Chi2 is a Gamma subclass: its KL pairs are Gamma's).</summary>
    internal Gamma AsGamma => _gamma;

    /// <summary>The degrees of freedom.</summary>
    public Tensor Df { get; }

    /// <summary>df.</summary>
    public override Tensor Mean => Df.To(Df.DType);

    /// <summary>2·df.</summary>
    public override Tensor Variance => Df * 2.0;

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>Gamma(df/2, ½) draws, differentiable in df.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null) => _gamma.RSample(sampleShape, generator);

    /// <inheritdoc/>
    public override Tensor Cdf(Tensor value) => _gamma.Cdf(value);

    /// <inheritdoc/>
    private protected override Tensor LogProbOf(Tensor value) => _gamma.LogProb(value);

    /// <inheritdoc/>
    public override Tensor Entropy() => _gamma.Entropy();

    /// <summary>x ≥ 0.</summary>
    public override Constraint Support => Constraints.Nonnegative;
}
