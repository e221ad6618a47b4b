namespace Kiln.Distributions;

/// <summary>
/// The geometric distribution: the number of failures before the first success of Bernoulli trials with success
/// probability p, on 0, 1, 2, ... (<c>torch.distributions.Geometric</c>), given probabilities or log-odds.
/// </summary>
public sealed class Geometric : Distribution
{
    /// <summary>Geometrics with success <paramref name="probs"/> in (0, 1] or log-odds <paramref name="logits"/>: exactly one.</summary>
    public Geometric(Tensor? probs = null, Tensor? logits = null) : base(Bernoulli.Parameter("Geometric", probs, logits).ShapeArray, [])
    {
        (Probs, Logits) = Bernoulli.ProbsAndLogits(probs, logits);
        CheckParameters(("probs", Probs, Constraints.UnitInterval), ("logits", Logits, Constraints.Real));
    }

    /// <summary>The success probabilities p.</summary>
    public Tensor Probs { get; }

    /// <summary>The log-odds log(p / (1 - p)).</summary>
    public Tensor Logits { get; }

    /// <summary>1/p - 1.</summary>
    public override Tensor Mean
    {
        get
        {
            using var inverse = Probs.Reciprocal();
            return inverse - 1.0;
        }
    }

    /// <summary>(1/p - 1)/p.</summary>
    public override Tensor Variance
    {
        get
        {
            using var inverse = Probs.Reciprocal();
            using var failures = inverse - 1.0;
            return failures / Probs;
        }
    }

    /// <summary>⌊log u / log(1 - p)⌋ with u uniform on [tiny, 1) (no gradient).</summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        using var unit = StandardUniform(ExtendedShape(sampleShape), Probs, generator);
        using var u = unit.ClampMin(Probs.DType.Tiny());
        using var logU = u.Log();
        using var rest = Probs.Neg();
        using var logRest = rest.Log1p();
        using var ratio = logU / logRest;
        return ratio.Floor();
    }

    /// <summary>0 (no failures before the first success).</summary>
    public override Tensor Mode => Tensor.ZerosLike(Probs);

    /// <summary>k·log(1 - p) + log p (0·log 0 read as 0 where p = 1 and k = 0).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var certain = Probs.Eq(1);
        using var first = value.Eq(0);
        using var both = certain.BitwiseAnd(first);
        using var zero = Tensor.Full([], 0, Probs.DType, Probs.Device);
        using var p = Tensor.Where(both, zero, Probs);
        using var rest = p.Neg();
        using var logRest = rest.Log1p();
        using var failures = value * logRest;
        using var logP = Probs.Log();
        return failures + logP;
    }

    /// <summary>binary_cross_entropy_with_logits(logits, p) / p.</summary>
    public override Tensor Entropy()
    {
        using var bce = NN.F.BinaryCrossEntropyWithLogits(Logits, Probs, reduction: NN.Reduction.None);
        return bce / Probs;
    }

    /// <summary>0, 1, 2, ...</summary>
    public override Constraint Support => Constraints.NonnegativeInteger;
}
