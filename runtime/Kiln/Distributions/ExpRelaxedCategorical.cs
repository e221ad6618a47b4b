namespace Kiln.Distributions;

/// <summary>
/// The log of a relaxed one-hot categorical variable (<c>torch.distributions.ExpRelaxedCategorical</c>, the Concrete
/// distribution in log space): log softmax((logits + Gumbel noise)/τ) over the last dim, reparameterized. Its exp is
/// <see cref="RelaxedOneHotCategorical"/>.
/// </summary>
public sealed class ExpRelaxedCategorical : Distribution
{
    readonly Categorical _categorical;

    /// <summary>At <paramref name="temperature"/> τ, with <paramref name="probs"/> or <paramref name="logits"/> [..., K]: exactly one.</summary>
    public ExpRelaxedCategorical(Tensor temperature, Tensor? probs = null, Tensor? logits = null)
        : this(temperature, new Categorical(probs, logits)) { }

    ExpRelaxedCategorical(Tensor temperature, Categorical categorical) : base(categorical.BatchShape, [categorical.NumEvents])
    {
        Temperature = temperature ?? throw new System.ArgumentNullException(nameof(temperature));
        _categorical = categorical;
    }

    /// <summary>The temperature τ.</summary>
    public Tensor Temperature { get; }

    /// <summary>The normalised probabilities [..., K].</summary>
    public Tensor Probs => _categorical.Probs;

    /// <summary>The normalised log-probabilities [..., K].</summary>
    public Tensor Logits => _categorical.Logits;

    /// <summary>Not known in closed form (PyTorch raises too).</summary>
    public override Tensor Mean => throw NotClosedForm("mean", "mean");

    /// <summary>Not known in closed form (PyTorch raises too).</summary>
    public override Tensor Variance => throw NotClosedForm("variance", "variance");

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>s - logsumexp(s) with s = (logits + g)/τ, g = -log(-log u) Gumbel noise (u clamped into (0, 1)).</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var unit = StandardUniform(ExtendedShape(sampleShape), Logits, generator);
        double eps = Logits.DType.Eps();
        using var u = unit.Clamp(eps, 1 - eps);
        using var logU = u.Log();
        using var negated = logU.Neg();
        using var logNeg = negated.Log();
        using var gumbels = logNeg.Neg();
        using var noisy = Logits + gumbels;
        using var scores = noisy / Temperature;
        using var normaliser = scores.LogSumExp(-1, keepDim: true);
        return scores - normaliser;
    }

    /// <summary>
    /// log Γ(K) + (K - 1)·log τ + Σ (s - logsumexp s) with s = logits - τ·x, the density of the log-space Concrete.
    /// </summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        int k = _categorical.NumEvents;
        using var logT = Temperature.Log();
        using var scaledLogT = logT * (double)(k - 1);
        using var logScale = scaledLogT + LogGamma(k);
        using var tx = value * Temperature;
        using var score = Logits - tx;
        using var normaliser = score.LogSumExp(-1, keepDim: true);
        using var centred = score - normaliser;
        using var summed = centred.Sum(-1);
        return summed + logScale;
    }

    static double LogGamma(int k)
    {
        double sum = 0;
        for (int i = 2; i < k; i++) sum += System.Math.Log(i);
        return sum;
    }

    /// <summary>Not known in closed form (PyTorch raises too).</summary>
    public override Tensor Entropy() => throw NotClosedForm("entropy", "entropy");
}
