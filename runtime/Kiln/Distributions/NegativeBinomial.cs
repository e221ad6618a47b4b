namespace Kiln.Distributions;

/// <summary>
/// The negative binomial distribution (<c>torch.distributions.NegativeBinomial</c>): the number of successes before
/// <see cref="TotalCount"/> failures of Bernoulli trials with success probability p, on 0, 1, 2, … — a Poisson whose
/// rate is gamma-distributed, the usual model of overdispersed counts. Any positive real total count is allowed.
/// </summary>
public sealed class NegativeBinomial : Distribution
{
    /// <summary><paramref name="totalCount"/> failures, success <paramref name="probs"/> or log-odds <paramref name="logits"/> (exactly one), broadcast.</summary>
    public NegativeBinomial(Tensor totalCount, Tensor? probs = null, Tensor? logits = null) : this(Bernoulli.CountAndParameter("NegativeBinomial", totalCount, probs, logits), logits is not null) { }

    /// <summary><paramref name="totalCount"/> failures each.</summary>
    public NegativeBinomial(double totalCount, Tensor? probs = null, Tensor? logits = null)
        : this(Tensor.Full([], totalCount, Bernoulli.Parameter("NegativeBinomial", probs, logits).DType, (probs ?? logits)!.Device), probs, logits) { }

    NegativeBinomial((Tensor Count, Tensor Parameter) p, bool fromLogits) : base(p.Parameter.ShapeArray, [])
    {
        TotalCount = p.Count;
        (Probs, Logits) = Bernoulli.ProbsAndLogits(fromLogits ? null : p.Parameter, fromLogits ? p.Parameter : null);
        CheckParameters(("total_count", TotalCount, Constraints.GreaterThanEq(0)), ("probs", Probs, Constraints.HalfOpenInterval(0, 1)), ("logits", Logits, Constraints.Real));
    }

    /// <summary>The numbers of failures r (a floating tensor).</summary>
    public Tensor TotalCount { get; }

    /// <summary>The success probabilities p.</summary>
    public Tensor Probs { get; }

    /// <summary>The log-odds.</summary>
    public Tensor Logits { get; }

    /// <summary>r·p/(1 - p) = r·exp(logits).</summary>
    public override Tensor Mean
    {
        get
        {
            using var odds = Logits.Exp();
            return TotalCount * odds;
        }
    }

    /// <summary>mean/(1 - p).</summary>
    public override Tensor Variance
    {
        get
        {
            using var mean = Mean;
            using var negated = Logits.Neg();
            using var failure = negated.Sigmoid();
            return mean / failure;
        }
    }

    /// <summary>A Poisson draw at a Gamma(r, (1 - p)/p) rate (no gradient), as PyTorch draws it.</summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        using var negated = Logits.Neg();
        using var rate = negated.Exp();
        using var rates = new Gamma(TotalCount, rate).Sample(sampleShape, generator);
        return new Poisson(rates).Sample(null, generator);
    }

    /// <summary>⌊(r - 1)·p/(1 - p)⌋, at least 0.</summary>
    public override Tensor Mode
    {
        get
        {
            using var odds = Logits.Exp();
            using var less = TotalCount - 1.0;
            using var scaled = less * odds;
            using var floor = scaled.Floor();
            return floor.ClampMin(0);
        }
    }

    /// <summary>r·log σ(-logits) + k·log σ(logits) + lgamma(r + k) - lgamma(1 + k) - lgamma(r), the normaliser 0 where r + k = 0.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var negated = Logits.Neg();
        using var logFail = negated.LogSigmoid();
        using var logSuccess = Logits.LogSigmoid();
        using var failures = TotalCount * logFail;
        using var successes = value * logSuccess;
        using var unnormalised = failures + successes;
        using var sum = TotalCount + value;
        using var lgSum = sum.Lgamma();
        using var valuePlus1 = value + 1.0;
        using var lgValue = valuePlus1.Lgamma();
        using var lgCount = TotalCount.Lgamma();
        using var a = lgValue - lgSum;
        using var normaliser = a + lgCount;
        using var empty = sum.Eq(0);
        using var zero = Tensor.Full([], 0, normaliser.DType, normaliser.Device);
        using var kept = Tensor.Where(empty, zero, normaliser);
        return unnormalised - kept;
    }

    /// <summary>Not known in closed form (PyTorch raises too).</summary>
    public override Tensor Entropy() => throw NotClosedForm("entropy", "entropy");

    /// <summary>0, 1, 2, ...</summary>
    public override Constraint Support => Constraints.NonnegativeInteger;
}
