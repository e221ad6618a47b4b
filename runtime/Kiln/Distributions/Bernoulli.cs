using Kiln.NN;

namespace Kiln.Distributions;

/// <summary>
/// The Bernoulli distribution over {0, 1} (<c>torch.distributions.Bernoulli</c>), given either the probabilities of 1 or
/// their logits.
/// </summary>
public sealed class Bernoulli : Distribution
{
    /// <summary>Bernoullis with <paramref name="probs"/> (probabilities of 1) or <paramref name="logits"/> (log-odds): exactly one.</summary>
    public Bernoulli(Tensor? probs = null, Tensor? logits = null) : base(Parameter("Bernoulli", probs, logits).ShapeArray, [])
    {
        (Probs, Logits) = ProbsAndLogits(probs, logits);
        CheckParameters(("probs", Probs, Constraints.UnitInterval), ("logits", Logits, Constraints.Real));
    }

    /// <summary>The probabilities of 1.</summary>
    public Tensor Probs { get; }

    /// <summary>The log-odds log(p / (1 - p)).</summary>
    public Tensor Logits { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Probs.To(Probs.DType);

    /// <inheritdoc/>
    public override Tensor Variance => Probs * (1.0 - Probs);

    /// <summary>0/1 draws in the probabilities' dtype.</summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        using var spread = Probs.Expand(ExtendedShape(sampleShape));
        return spread.Bernoulli(generator);
    }

    /// <summary>1 where p &gt; ½, 0 where p &lt; ½, NaN at ½ (no single mode).</summary>
    public override Tensor Mode
    {
        get
        {
            using var high = Probs.Ge(0.5);
            using var values = high.To(Probs.DType);
            using var tie = Probs.Eq(0.5);
            using var nan = Tensor.Full([], double.NaN, Probs.DType, Probs.Device);
            return Tensor.Where(tie, nan, values);
        }
    }

    /// <summary>x·log p + (1 - x)·log(1 - p), through the logits (no log 0).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        var (logits, target) = Broadcast("Bernoulli", Logits, value.DType.IsFloatingPoint() ? value : value.To(Logits.DType));
        using (logits)
        using (target)
        using (var loss = F.BinaryCrossEntropyWithLogits(logits, target, null, null, Reduction.None))
            return loss.Neg();
    }

    /// <inheritdoc/>
    public override Tensor Entropy() => F.BinaryCrossEntropyWithLogits(Logits, Probs, null, null, Reduction.None);

    /// <summary>A binary family's probabilities and log-odds from whichever one was given (the other derived, as PyTorch's lazy properties).</summary>
    internal static (Tensor Probs, Tensor Logits) ProbsAndLogits(Tensor? probs, Tensor? logits) =>
        logits is not null ? (logits.Sigmoid(), logits) : (probs!, Categorical.ProbsToLogits(probs!, binary: true));

    /// <summary>A count family's trial count in its parameter's dtype and that parameter, broadcast together (Binomial, NegativeBinomial).</summary>
    internal static (Tensor Count, Tensor Parameter) CountAndParameter(string family, Tensor totalCount, Tensor? probs, Tensor? logits)
    {
        var parameter = Parameter(family, probs, logits);
        var count = totalCount.DType == parameter.DType ? totalCount : totalCount.To(parameter.DType);   // the views below share it
        return Broadcast(family, count, parameter);
    }

    internal static Tensor Parameter(string family, Tensor? probs, Tensor? logits)
    {
        if ((probs is null) == (logits is null))
            throw new KilnException(family, $"{family}: either probs or logits must be specified, but not both");
        var p = probs ?? logits!;
        if (!p.DType.IsFloatingPoint()) throw new KilnException(family, $"{family}: parameters must be floating point, got {p.DType}", KilnErrorKind.DType);
        return p;
    }

    /// <summary>0 or 1.</summary>
    public override Constraint Support => Constraints.Boolean;

    /// <inheritdoc/>
    public override bool HasEnumerateSupport => true;

    /// <summary>0 and 1.</summary>
    public override Tensor EnumerateSupport(bool expand = true)
    {
        using var values = Tensor.Arange(0, 2).To(Probs.DType).To(Probs.Device);
        return Enumerated(values, expand);
    }
}
