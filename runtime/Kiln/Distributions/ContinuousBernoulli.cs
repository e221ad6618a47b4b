using System;

namespace Kiln.Distributions;

/// <summary>
/// The continuous Bernoulli distribution on [0, 1] (<c>torch.distributions.ContinuousBernoulli</c>, Loaiza-Ganem and
/// Cunningham): density C(λ)·λˣ(1 - λ)¹⁻ˣ, the properly normalised likelihood for a VAE's pixel intensities in [0, 1].
/// Near λ = 1/2, where the closed forms divide 0 by 0, Taylor expansions take over (inside <c>lims</c>), as PyTorch's.
/// Samples invert the cdf, so they are reparameterized.
/// </summary>
public sealed class ContinuousBernoulli : Distribution
{
    // Where λ is far enough from 1/2 for the closed forms, and λ there with the low limit elsewhere (so the unused branch
    // stays finite for its gradient): fixed by λ, so computed once.
    readonly Tensor _outside, _cut;

    /// <summary>Continuous Bernoullis with shape <paramref name="probs"/> λ or log-odds <paramref name="logits"/> (exactly one).</summary>
    /// <param name="probs">λ in [0, 1] (clamped into (0, 1) by the dtype's eps, as PyTorch).</param>
    /// <param name="logits">log(λ/(1 - λ)).</param>
    /// <param name="lims">The interval around 1/2 where the Taylor forms are used.</param>
    public ContinuousBernoulli(Tensor? probs = null, Tensor? logits = null, (double Low, double High)? lims = null)
        : base(Bernoulli.Parameter("ContinuousBernoulli", probs, logits).ShapeArray, [])
    {
        var (low, high) = lims ?? (0.499, 0.501);
        if (probs is not null)
        {
            Probs = Clamped(probs);
            Logits = Categorical.ProbsToLogits(Probs, binary: true);
        }
        else
        {
            using var p = logits!.Sigmoid();
            Probs = Clamped(p);
            Logits = logits;
        }
        using var below = Probs.Le(low);
        using var above = Probs.Gt(high);
        _outside = below.LogicalOr(above);
        using var lowLimit = Tensor.Full([], low, Probs.DType, Probs.Device);
        _cut = Tensor.Where(_outside, Probs, lowLimit);
        CheckParameters(("probs", Probs, Constraints.UnitInterval), ("logits", Logits, Constraints.Real));
    }

    static Tensor Clamped(Tensor p)
    {
        double eps = p.DType.Eps();
        return p.Clamp(eps, 1 - eps);
    }

    /// <summary>The shape parameters λ.</summary>
    public Tensor Probs { get; }

    /// <summary>The log-odds of λ.</summary>
    public Tensor Logits { get; }

    /// <summary>log(1 - λ) - log λ of the cut probabilities.</summary>
    static Tensor LogRatio(Tensor cut)
    {
        using var rest = cut.Neg();
        using var log1p = rest.Log1p();
        using var log = cut.Log();
        return log1p - log;
    }

    /// <summary>log C(λ): log|log(1 - λ) - log λ| - log|1 - 2λ|, or log 2 + (4/3 + 104/45·d²)·d² with d = λ - 1/2 near 1/2.</summary>
    internal Tensor LogNormaliser()
    {
        var cut = _cut;
        using var ratio = LogRatio(cut);
        using var magnitude = ratio.Abs();
        using var logMagnitude = magnitude.Log();
        using var lowHalf = cut.Le(0.5);
        using var zeros = Tensor.ZerosLike(cut);
        using var ones = Tensor.OnesLike(cut);
        using var belowSide = Tensor.Where(lowHalf, cut, zeros);
        using var highHalf = cut.Ge(0.5);
        using var aboveSide = Tensor.Where(highHalf, cut, ones);
        using var belowScaled = belowSide * -2.0;
        using var belowLog = belowScaled.Log1p();
        using var aboveScaled = aboveSide * 2.0;
        using var aboveLess = aboveScaled - 1.0;
        using var aboveLog = aboveLess.Log();
        using var sideLog = Tensor.Where(lowHalf, belowLog, aboveLog);
        using var closed = logMagnitude - sideLog;
        using var d = Probs - 0.5;
        using var d2 = d.Square();
        using var slope = d2 * (104.0 / 45.0);
        using var factor = slope + 4.0 / 3.0;
        using var series = factor * d2;
        using var taylor = series + Math.Log(2.0);
        return Tensor.Where(_outside, closed, taylor);
    }

    /// <summary>λ/(2λ - 1) + 1/(log(1 - λ) - log λ), or 1/2 + (1/3 + 16/45·d²)·d near 1/2.</summary>
    public override Tensor Mean
    {
        get
        {
            var cut = _cut;
            using var twice = cut * 2.0;
            using var denominator = twice - 1.0;
            using var first = cut / denominator;
            using var ratio = LogRatio(cut);
            using var second = ratio.Reciprocal();
            using var closed = first + second;
            using var d = Probs - 0.5;
            using var d2 = d.Square();
            using var slope = d2 * (16.0 / 45.0);
            using var factor = slope + 1.0 / 3.0;
            using var series = factor * d;
            using var taylor = series + 0.5;
            return Tensor.Where(_outside, closed, taylor);
        }
    }

    /// <summary>λ(λ - 1)/(1 - 2λ)² + 1/(log(1 - λ) - log λ)², or 1/12 - (1/15 - 128/945·d²)·d² near 1/2.</summary>
    public override Tensor Variance
    {
        get
        {
            var cut = _cut;
            using var less = cut - 1.0;
            using var top = cut * less;
            using var twice = cut * 2.0;
            using var gap = 1.0 - twice;
            using var gap2 = gap.Square();
            using var first = top / gap2;
            using var ratio = LogRatio(cut);
            using var ratio2 = ratio.Square();
            using var second = ratio2.Reciprocal();
            using var closed = first + second;
            using var d = Probs - 0.5;
            using var d2 = d.Square();
            using var slope = d2 * (128.0 / 945.0);
            using var factor = (1.0 / 15.0) - slope;
            using var series = factor * d2;
            using var taylor = (1.0 / 12.0) - series;
            return Tensor.Where(_outside, closed, taylor);
        }
    }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>The inverse cdf at a uniform draw.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var u = StandardUniform(ExtendedShape(sampleShape), Probs, generator);
        return Icdf(u);
    }

    /// <summary>-BCE-with-logits(logits, x) + log C(λ).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        var (logits, target) = Broadcast("ContinuousBernoulli", Logits, value);
        using (logits)
        using (target)
        using (var bce = NN.F.BinaryCrossEntropyWithLogits(logits, target, null, null, NN.Reduction.None))
        using (var logNorm = LogNormaliser())
            return logNorm - bce;
    }

    /// <summary>(λˣ(1 - λ)¹⁻ˣ + λ - 1)/(2λ - 1), x itself near λ = 1/2; 0 below 0 and 1 above 1.</summary>
    public override Tensor Cdf(Tensor value)
    {
        var cut = _cut;
        using var rest = 1.0 - cut;
        using var restPower = 1.0 - value;
        using var a = cut.Pow(value);
        using var b = rest.Pow(restPower);
        using var product = a * b;
        using var shifted = product + cut;
        using var top = shifted - 1.0;
        using var twice = cut * 2.0;
        using var bottom = twice - 1.0;
        using var closed = top / bottom;
        using var unbounded = Tensor.Where(_outside, closed, value);
        using var zeros = Tensor.ZerosLike(value);
        using var ones = Tensor.OnesLike(value);
        using var atLeastOne = value.Ge(1.0);
        using var capped = Tensor.Where(atLeastOne, ones, unbounded);
        using var atMostZero = value.Le(0.0);
        return Tensor.Where(atMostZero, zeros, capped);
    }

    /// <summary>(log(1 - λ + p(2λ - 1)) - log(1 - λ))/(log λ - log(1 - λ)), p itself near λ = 1/2.</summary>
    public override Tensor Icdf(Tensor value)
    {
        var cut = _cut;
        using var twice = cut * 2.0;
        using var slope = twice - 1.0;
        using var moved = value * slope;
        using var inner = moved - cut;
        using var logInner = inner.Log1p();
        using var negCut = cut.Neg();
        using var logRest = negCut.Log1p();
        using var top = logInner - logRest;
        using var logCut = cut.Log();
        using var bottom = logCut - logRest;
        using var closed = top / bottom;
        return Tensor.Where(_outside, closed, value);
    }

    /// <summary>mean·(log(1 - λ) - log λ) - log C(λ) - log(1 - λ).</summary>
    public override Tensor Entropy()
    {
        using var negated = Probs.Neg();
        using var log0 = negated.Log1p();
        using var log1 = Probs.Log();
        using var diff = log0 - log1;
        using var mean = Mean;
        using var weighted = mean * diff;
        using var logNorm = LogNormaliser();
        using var less = weighted - logNorm;
        return less - log0;
    }

    /// <summary>0 ≤ x ≤ 1.</summary>
    public override Constraint Support => Constraints.UnitInterval;
}
