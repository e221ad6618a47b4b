namespace Kiln.Distributions;

/// <summary>
/// The relaxed one-hot categorical (Concrete / Gumbel-softmax) distribution on the simplex
/// (<c>torch.distributions.RelaxedOneHotCategorical</c>): softmax((logits + Gumbel noise)/τ), reparameterized — samples
/// approach one-hot vectors as the temperature falls.
/// </summary>
public sealed class RelaxedOneHotCategorical : TransformedDistribution
{
    /// <summary>At <paramref name="temperature"/> τ, with <paramref name="probs"/> or <paramref name="logits"/> [..., K]: exactly one.</summary>
    public RelaxedOneHotCategorical(Tensor temperature, Tensor? probs = null, Tensor? logits = null)
        : base(new ExpRelaxedCategorical(temperature, probs, logits), new ExpTransform()) { }

    /// <summary>The temperature τ.</summary>
    public Tensor Temperature => ((ExpRelaxedCategorical)Base).Temperature;

    /// <summary>The normalised probabilities [..., K].</summary>
    public Tensor Probs => ((ExpRelaxedCategorical)Base).Probs;

    /// <summary>The normalised log-probabilities [..., K].</summary>
    public Tensor Logits => ((ExpRelaxedCategorical)Base).Logits;

    /// <summary>The probability simplex.</summary>
    public override Constraint Support => Constraints.Simplex;
}
