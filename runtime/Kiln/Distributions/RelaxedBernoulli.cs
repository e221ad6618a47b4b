namespace Kiln.Distributions;

/// <summary>
/// The relaxed Bernoulli (binary Concrete) distribution on (0, 1) (<c>torch.distributions.RelaxedBernoulli</c>): the
/// sigmoid of a <see cref="LogitRelaxedBernoulli"/> variable, a differentiable stand-in for a coin flip — samples approach
/// 0/1 as the temperature falls.
/// </summary>
public sealed class RelaxedBernoulli : TransformedDistribution
{
    /// <summary>At <paramref name="temperature"/> τ, with <paramref name="probs"/> or log-odds <paramref name="logits"/>: exactly one.</summary>
    public RelaxedBernoulli(Tensor temperature, Tensor? probs = null, Tensor? logits = null)
        : base(new LogitRelaxedBernoulli(temperature, probs, logits), new SigmoidTransform()) { }

    /// <summary>The temperature τ.</summary>
    public Tensor Temperature => ((LogitRelaxedBernoulli)Base).Temperature;

    /// <summary>The probabilities p.</summary>
    public Tensor Probs => ((LogitRelaxedBernoulli)Base).Probs;

    /// <summary>The log-odds.</summary>
    public Tensor Logits => ((LogitRelaxedBernoulli)Base).Logits;

    /// <summary>0 ≤ x ≤ 1.</summary>
    public override Constraint Support => Constraints.UnitInterval;
}
