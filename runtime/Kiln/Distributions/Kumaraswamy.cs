namespace Kiln.Distributions;

/// <summary>
/// The Kumaraswamy distribution on (0, 1) with concentrations a and b (<c>torch.distributions.Kumaraswamy</c>): density
/// a·b·x^(a-1)·(1 - xᵃ)^(b-1), drawn as (1 - U^(1/b))^(1/a), so samples are reparameterized. A Beta look-alike with a
/// closed-form cdf.
/// </summary>
public sealed class Kumaraswamy : TransformedDistribution
{
    /// <summary>Kumaraswamys with <paramref name="concentration1"/> a and <paramref name="concentration0"/> b, broadcast.</summary>
    public Kumaraswamy(Tensor concentration1, Tensor concentration0) : this(Broadcast("Kumaraswamy", concentration1, concentration0)) { }

    Kumaraswamy((Tensor A, Tensor B) p)
        : base(new Uniform(Tensor.ZerosLike(p.B), Tensor.OnesLike(p.B)),
            new PowerTransform(p.B.Reciprocal()), new AffineTransform(Scalar(1, p.B), Scalar(-1, p.B)), new PowerTransform(p.A.Reciprocal()))
    {
        Concentration1 = p.A;
        Concentration0 = p.B;
        CheckParameters(("concentration1", Concentration1, Constraints.Positive), ("concentration0", Concentration0, Constraints.Positive));
    }

    static Tensor Scalar(double v, Tensor like) => Tensor.Full([], v, like.DType, like.Device);

    /// <summary>The concentrations a (the exponent of x).</summary>
    public Tensor Concentration1 { get; }

    /// <summary>The concentrations b (the exponent of 1 - xᵃ).</summary>
    public Tensor Concentration0 { get; }

    /// <summary>E[Xⁿ] = b·B(1 + n/a, b), through log-gammas.</summary>
    Tensor Moment(int n)
    {
        using var step = Concentration1.Reciprocal();
        using var scaled = step * (double)n;
        using var arg1 = scaled + 1.0;
        using var sum = arg1 + Concentration0;
        using var lg1 = arg1.Lgamma();
        using var lgB = Concentration0.Lgamma();
        using var lgSum = sum.Lgamma();
        using var partial = lg1 + lgB;
        using var logBeta = partial - lgSum;
        using var beta = logBeta.Exp();
        return Concentration0 * beta;
    }

    /// <summary>b·B(1 + 1/a, b).</summary>
    public override Tensor Mean => Moment(1);

    /// <summary>E[X²] - E[X]².</summary>
    public override Tensor Variance
    {
        get
        {
            using var second = Moment(2);
            using var mean = Moment(1);
            using var meanSquared = mean.Square();
            return second - meanSquared;
        }
    }

    /// <summary>1 - (1 - xᵃ)ᵇ.</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var powered = value.Pow(Concentration1);
        using var rest = 1.0 - powered;
        using var tail = rest.Pow(Concentration0);
        return 1.0 - tail;
    }

    /// <summary>(1 - (1 - p)^(1/b))^(1/a).</summary>
    public override Tensor Icdf(Tensor value)
    {
        using var rest = 1.0 - value;
        using var invB = Concentration0.Reciprocal();
        using var root = rest.Pow(invB);
        using var inner = 1.0 - root;
        using var invA = Concentration1.Reciprocal();
        return inner.Pow(invA);
    }

    /// <summary>(1 - 1/b) + (1 - 1/a)·(ψ(b + 1) + γ) - log a - log b.</summary>
    public override Tensor Entropy()
    {
        using var invA = Concentration1.Reciprocal();
        using var invB = Concentration0.Reciprocal();
        using var t1 = 1.0 - invA;
        using var t0 = 1.0 - invB;
        using var bPlus1 = Concentration0 + 1.0;
        using var digamma = bPlus1.Digamma();
        using var h0 = digamma + Gumbel.EulerGamma;
        using var middle = t1 * h0;
        using var logA = Concentration1.Log();
        using var logB = Concentration0.Log();
        using var sum = t0 + middle;
        using var less = sum - logA;
        return less - logB;
    }

    /// <summary>
    /// ((a - 1)/(ab - 1))^(1/a) for a, b ≥ 1 (not both 1), NaN otherwise (the density peaks at an end). PyTorch 1.13's
    /// formula, (1/b)·log(1 - b) - log(1 - ab) in log space, is NaN for every b &gt; 1; this is the interior maximum.
    /// </summary>
    public override Tensor Mode
    {
        get
        {
            var a = Concentration1;
            var b = Concentration0;
            using var product = a * b;
            using var denominator = product - 1.0;
            using var numerator = a - 1.0;
            using var ratio = numerator / denominator;
            using var inverse = a.Reciprocal();
            using var mode = ratio.Pow(inverse);
            using var lowA = a.Lt(1);
            using var lowB = b.Lt(1);
            using var outside = lowA.LogicalOr(lowB);
            using var flat = product.Eq(1);
            using var undefined = outside.LogicalOr(flat);
            using var nan = Tensor.Full([], double.NaN, mode.DType, mode.Device);
            return Tensor.Where(undefined, nan, mode);
        }
    }

    /// <summary>0 ≤ x ≤ 1.</summary>
    public override Constraint Support => Constraints.UnitInterval;
}
