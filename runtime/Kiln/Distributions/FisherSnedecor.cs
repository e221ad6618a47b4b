namespace Kiln.Distributions;

/// <summary>
/// The F distribution with d₁ and d₂ degrees of freedom (<c>torch.distributions.FisherSnedecor</c>): the ratio of two
/// scaled chi-squared variables, the law of variance ratios. Samples are the ratio of two reparameterized gamma draws.
/// </summary>
public sealed class FisherSnedecor : Distribution
{
    /// <summary>F distributions with <paramref name="df1"/> and <paramref name="df2"/> degrees of freedom, broadcast.</summary>
    public FisherSnedecor(Tensor df1, Tensor df2) : this(Broadcast("FisherSnedecor", df1, df2)) { }

    FisherSnedecor((Tensor Df1, Tensor Df2) p) : base(p.Df1.ShapeArray, [])
    {
        Df1 = p.Df1;
        Df2 = p.Df2;
        CheckParameters(("df1", Df1, Constraints.Positive), ("df2", Df2, Constraints.Positive));
        _numerator = new Gamma(Df1 * 0.5, Df1);
        _denominator = new Gamma(Df2 * 0.5, Df2);
    }

    // Xᵢ ~ Gamma(dᵢ/2, dᵢ), built once: each construction checks its parameters.
    readonly Gamma _numerator, _denominator;

    /// <summary>The numerator's degrees of freedom d₁.</summary>
    public Tensor Df1 { get; }

    /// <summary>The denominator's degrees of freedom d₂.</summary>
    public Tensor Df2 { get; }

    /// <summary>d₂/(d₂ - 2); NaN where d₂ ≤ 2.</summary>
    public override Tensor Mean
    {
        get
        {
            using var undefined = Df2.Le(2);
            using var less = Df2 - 2.0;
            using var mean = Df2 / less;
            return mean.MaskedFill(undefined, double.NaN);
        }
    }

    /// <summary>2·d₂²·(d₁ + d₂ - 2)/(d₁·(d₂ - 2)²·(d₂ - 4)); NaN where d₂ ≤ 4.</summary>
    public override Tensor Variance
    {
        get
        {
            using var undefined = Df2.Le(4);
            using var df2Squared = Df2.Square();
            using var both = Df1 + Df2;
            using var bothLess = both - 2.0;
            using var top1 = df2Squared * bothLess;
            using var top = top1 * 2.0;
            using var less2 = Df2 - 2.0;
            using var less2Squared = less2.Square();
            using var less4 = Df2 - 4.0;
            using var bottom1 = Df1 * less2Squared;
            using var bottom = bottom1 * less4;
            using var variance = top / bottom;
            return variance.MaskedFill(undefined, double.NaN);
        }
    }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>X₁/X₂ with Xᵢ ~ Gamma(dᵢ/2, dᵢ), both clamped at the dtype's tiny, differentiable in d₁ and d₂.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var x1 = _numerator.RSample(sampleShape, generator);
        using var x2 = _denominator.RSample(sampleShape, generator);
        double tiny = Df1.DType.Tiny();
        using var denominator = x2.ClampMin(tiny);
        using var ratio = x1 / denominator;
        return ratio.ClampMin(tiny);
    }

    /// <summary>(d₁ - 2)/d₁ · d₂/(d₂ + 2), NaN for d₁ ≤ 2.</summary>
    public override Tensor Mode
    {
        get
        {
            using var a = Df1 - 2.0;
            using var b = a / Df1;
            using var c = Df2 + 2.0;
            using var d = Df2 / c;
            using var mode = b * d;
            using var small = Df1.Le(2);
            using var nan = Tensor.Full([], double.NaN, mode.DType, mode.Device);
            return Tensor.Where(small, nan, mode);
        }
    }

    /// <summary>lgamma(a + b) - lgamma(a) - lgamma(b) + a·log(d₁/d₂) + (a - 1)·log x - (a + b)·log(1 + x·d₁/d₂), a = d₁/2, b = d₂/2.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var a = Df1 * 0.5;
        using var b = Df2 * 0.5;
        using var ratio = Df1 / Df2;
        using var ab = a + b;
        using var lgAb = ab.Lgamma();
        using var lgA = a.Lgamma();
        using var lgB = b.Lgamma();
        using var t1a = lgAb - lgA;
        using var t1 = t1a - lgB;
        using var logRatio = ratio.Log();
        using var t2a = a * logRatio;
        using var aLess = a - 1.0;
        using var logValue = value.Log();
        using var t2b = aLess * logValue;
        using var t2 = t2a + t2b;
        using var scaled = ratio * value;
        using var log1p = scaled.Log1p();
        using var t3 = ab * log1p;
        using var sum = t1 + t2;
        return sum - t3;
    }

    /// <summary>Not known in closed form (PyTorch raises too).</summary>
    public override Tensor Entropy() => throw NotClosedForm("entropy", "entropy");

    /// <summary>x > 0.</summary>
    public override Constraint Support => Constraints.Positive;
}
