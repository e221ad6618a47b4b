namespace Kiln.Distributions;

/// <summary>
/// The logit of a relaxed Bernoulli variable (<c>torch.distributions.LogitRelaxedBernoulli</c>, the binary Concrete
/// distribution of Maddison et al.): (logit u + logits)/τ for u uniform, reparameterized. Its sigmoid is
/// <see cref="RelaxedBernoulli"/>.
/// </summary>
public sealed class LogitRelaxedBernoulli : Distribution
{
    /// <summary>At <paramref name="temperature"/> τ, with <paramref name="probs"/> or log-odds <paramref name="logits"/>: exactly one.</summary>
    public LogitRelaxedBernoulli(Tensor temperature, Tensor? probs = null, Tensor? logits = null)
        : base(Bernoulli.Parameter("LogitRelaxedBernoulli", probs, logits).ShapeArray, [])
    {
        Temperature = temperature ?? throw new System.ArgumentNullException(nameof(temperature));
        (Probs, Logits) = Bernoulli.ProbsAndLogits(probs, logits);
        CheckParameters(("probs", Probs, Constraints.UnitInterval), ("logits", Logits, Constraints.Real));
    }

    /// <summary>The temperature τ: towards 0 the samples approach ±∞ (their sigmoid, hard 0/1).</summary>
    public Tensor Temperature { get; }

    /// <summary>The probabilities p.</summary>
    public Tensor Probs { get; }

    /// <summary>The log-odds.</summary>
    public Tensor Logits { get; }

    /// <summary>Not known in closed form (PyTorch raises too).</summary>
    public override Tensor Mean => throw NotClosedForm("mean", "mean");

    /// <summary>Not known in closed form (PyTorch raises too).</summary>
    public override Tensor Variance => throw NotClosedForm("variance", "variance");

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>(log u - log(1 - u) + log p - log(1 - p))/τ, u uniform clamped into (0, 1) as PyTorch's clamp_probs.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var unit = StandardUniform(ExtendedShape(sampleShape), Probs, generator);
        double eps = Probs.DType.Eps();
        using var u = unit.Clamp(eps, 1 - eps);
        using var p = Probs.Clamp(eps, 1 - eps);
        using var logitU = u.Logit();
        using var logitP = p.Logit();
        using var sum = logitU + logitP;
        return sum / Temperature;
    }

    /// <summary>log τ + d - 2·log(1 + eᵈ) with d = logits - τ·x.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var scaled = value * Temperature;
        using var diff = Logits - scaled;
        using var exp = diff.Exp();
        using var soft = exp.Log1p();
        using var twice = soft * 2.0;
        using var logT = Temperature.Log();
        using var sum = logT + diff;
        return sum - twice;
    }

    /// <summary>Not known in closed form (PyTorch raises too).</summary>
    public override Tensor Entropy() => throw NotClosedForm("entropy", "entropy");
}
