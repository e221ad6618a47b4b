namespace Kiln.Distributions;

/// <summary>The exponential distribution with rate λ (<c>torch.distributions.Exponential</c>).</summary>
public sealed class Exponential : Distribution
{
    /// <summary>Exponentials with rates <paramref name="rate"/>.</summary>
    public Exponential(Tensor rate) : base(rate.ShapeArray, [])
    {
        if (!rate.DType.IsFloatingPoint()) throw new KilnException("Exponential", $"Exponential: parameters must be floating point, got {rate.DType}", KilnErrorKind.DType);
        Rate = rate;
        CheckParameters(("rate", Rate, Constraints.Positive));
    }

    /// <summary>The rates λ.</summary>
    public Tensor Rate { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Rate.Reciprocal();

    /// <inheritdoc/>
    public override Tensor Variance => Rate.Square().Reciprocal();

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>-log(u)/λ with u ~ U(0, 1].</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var u = StandardUniform(ExtendedShape(sampleShape), Rate, generator);
        using var open = 1.0 - u;                     // (0, 1]: no log 0
        using var log = open.Log();
        using var exponential = log.Neg();
        return exponential / Rate;
    }

    /// <summary>0.</summary>
    public override Tensor Mode => Tensor.ZerosLike(Rate);

    /// <summary>log λ - λx.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var logRate = Rate.Log();
        using var decay = Rate * value;
        return logRate - decay;
    }

    /// <summary>1 - log λ.</summary>
    public override Tensor Entropy()
    {
        using var logRate = Rate.Log();
        return 1.0 - logRate;
    }

    /// <summary>1 - exp(-λx).</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var decay = Rate * value;
        using var negative = decay.Neg();
        using var survival = negative.Exp();
        return 1.0 - survival;
    }

    /// <summary>-log(1 - p)/λ.</summary>
    public override Tensor Icdf(Tensor value)
    {
        using var rest = value.Neg();
        using var log = rest.Log1p();
        using var negative = log.Neg();
        return negative / Rate;
    }

    /// <summary>x ≥ 0.</summary>
    public override Constraint Support => Constraints.Nonnegative;
}
