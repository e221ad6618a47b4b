using System;
using Kiln.Compiler.Shapes;

namespace Kiln.Distributions;

// KL divergences between distributions of different families, and the same-family pairs whose formulas need a mask
// or a dispatch (PyTorch's registry in torch/distributions/kl.py, each written from its closed form). Each formula runs
// in a tensor scope: its temporaries are released when it returns, the result is kept.
public static partial class Kl
{
    /// <summary>The pairs beyond the same-family ones of <see cref="Divergence"/>; null when there is no closed form.</summary>
    static Tensor? CrossFamily(Distribution p, Distribution q) => (p, q) switch
    {
        (Chi2 a, _) => Divergence(a.AsGamma, q),
        (_, Chi2 b) => Divergence(p, b.AsGamma),
        (Binomial a, Binomial b) => BinomialBinomial(a, b),
        (ContinuousBernoulli a, ContinuousBernoulli b) => ContinuousBernoulliContinuousBernoulli(a, b),
        (OneHotCategorical a, OneHotCategorical b) => CategoricalCategorical(a.Inner, b.Inner),
        (Pareto a, Pareto b) => ParetoPareto(a, b),
        (TransformedDistribution a, TransformedDistribution b) => TransformedTransformed(a, b),

        (Bernoulli a, Poisson b) => Scoped(() => -a.Entropy() - (a.Probs * b.Rate.Log() - b.Rate)),
        (Beta a, ContinuousBernoulli b) => Scoped(() => -a.Entropy() - a.Mean * b.Logits - (-b.Probs).Log1p() - b.LogNormaliser()),
        (Beta a, Exponential b) => Scoped(() => -a.Entropy() - b.Rate.Log() + b.Rate * (a.Concentration1 / (a.Concentration1 + a.Concentration0))),
        (Beta a, Gamma b) => BetaGamma(a, b),
        (Beta a, Normal b) => BetaNormal(a, b),
        (Beta a, Uniform b) => Scoped(() => InfinityWhere(-a.Entropy() + (b.High - b.Low).Log(), b.Low.Gt(0).LogicalOr(b.High.Lt(1)))),
        (Beta a, Pareto) => Infinite(p, q, a.Concentration1),

        (ContinuousBernoulli a, Exponential b) => Scoped(() => -a.Entropy() - b.Rate.Log() + b.Rate * a.Mean),
        (ContinuousBernoulli a, Normal b) => ContinuousBernoulliNormal(a, b),
        (ContinuousBernoulli a, Uniform b) => Scoped(() => InfinityWhere(-a.Entropy() + (b.High - b.Low).Log(), b.Low.Gt(0).LogicalOr(b.High.Lt(1)))),
        (ContinuousBernoulli a, Pareto) => Infinite(p, q, a.Probs),

        (Exponential a, Beta or ContinuousBernoulli or Pareto or Uniform) => Infinite(p, q, a.Rate),
        (Exponential a, Gamma b) => ExponentialGamma(a, b),
        (Exponential a, Gumbel b) => ExponentialGumbel(a, b),
        (Exponential a, Normal b) => ExponentialNormal(a, b),

        (Gamma a, Beta or ContinuousBernoulli or Pareto or Uniform) => Infinite(p, q, a.Concentration),
        (Gamma a, Exponential b) => Scoped(() => -a.Entropy() - b.Rate.Log() + b.Rate * a.Concentration / a.Rate),
        (Gamma a, Gumbel b) => GammaGumbel(a, b),
        (Gamma a, Normal b) => GammaNormal(a, b),

        (Gumbel a, Beta or ContinuousBernoulli or Exponential or Gamma or Pareto or Uniform) => Infinite(p, q, a.Loc),
        (Gumbel a, Normal b) => GumbelNormal(a, b),

        (Laplace a, Beta or ContinuousBernoulli or Exponential or Gamma or Pareto or Uniform) => Infinite(p, q, a.Loc),
        (Laplace a, Normal b) => LaplaceNormal(a, b),

        (Normal a, Beta or ContinuousBernoulli or Exponential or Gamma or Pareto or Uniform) => Infinite(p, q, a.Loc),
        (Normal a, Gumbel b) => NormalGumbel(a, b),
        (Normal a, Laplace b) => NormalLaplace(a, b),

        (Pareto a, Beta or ContinuousBernoulli or Uniform) => Infinite(p, q, a.Scale),
        (Pareto a, Exponential b) => ParetoExponential(a, b),
        (Pareto a, Gamma b) => ParetoGamma(a, b),
        (Pareto a, Normal b) => ParetoNormal(a, b),

        (Poisson a, Bernoulli or Binomial) => Infinite(p, q, a.Rate),

        (Uniform a, Beta b) => UniformBeta(a, b),
        (Uniform a, ContinuousBernoulli b) => Scoped(() => InfinityWhere(-a.Entropy() - a.Mean * b.Logits - (-b.Probs).Log1p() - b.LogNormaliser(),
            a.High.Gt(1).LogicalOr(a.Low.Lt(0)))),
        (Uniform a, Exponential b) => Scoped(() => InfinityWhere(b.Rate * (a.High + a.Low) * 0.5 - ((a.High - a.Low) * b.Rate).Log(), a.Low.Lt(0))),
        (Uniform a, Gamma b) => UniformGamma(a, b),
        (Uniform a, Gumbel b) => UniformGumbel(a, b),
        (Uniform a, Normal b) => UniformNormal(a, b),
        (Uniform a, Pareto b) => UniformPareto(a, b),
        _ => null,
    };

    /// <summary>Runs a formula in a tensor scope and keeps its result.</summary>
    static Tensor Scoped(Func<Tensor> formula)
    {
        using var scope = Tensor.Scope();
        return scope.Keep(formula());
    }

    /// <summary><paramref name="value"/> with +∞ where <paramref name="mask"/> holds (p puts mass where q has none).</summary>
    static Tensor InfinityWhere(Tensor value, Tensor mask)
    {
        var inf = Tensor.Full([], double.PositiveInfinity, value.DType, value.Device);
        return Tensor.Where(mask, inf, value);
    }

    /// <summary>+∞ over the pair's batch: q has no density over part of p's support.</summary>
    static Tensor Infinite(Distribution p, Distribution q, Tensor like)
    {
        var batch = ShapeRules.Broadcast("kl_divergence", p.BatchShape, q.BatchShape);
        return Tensor.Full(batch, double.PositiveInfinity, like.DType, like.Device);
    }

    // x·log x, 0 at 0 (PyTorch multiplies, which gives NaN for an interval that starts at 0).
    static Tensor XLogX(Tensor x) => x.Xlogy(x);

    // n_p·(π_p·(logit π_p - logit π_q) + log(1 - π_p) - log(1 - π_q)); ∞ where n_p > n_q; n_p < n_q has no closed form.
    static Tensor BinomialBinomial(Binomial p, Binomial q) => Scoped(() =>
    {
        using (Autograd.NoGrad())
            if (p.TotalCount.Lt(q.TotalCount).Any().Item<bool>())
                throw new KilnException("kl_divergence", "kl_divergence: KL between Binomials where q's total_count exceeds p's has no closed form", KilnErrorKind.Unsupported);
        var kl = p.TotalCount * (p.Probs * (p.Logits - q.Logits) + (-p.Probs).Log1p() - (-q.Probs).Log1p());
        return InfinityWhere(kl, p.TotalCount.Gt(q.TotalCount));
    });

    // E_p[x]·(λ_p - λ_q) in logits, plus each side's log normaliser and log(1 - π).
    static Tensor ContinuousBernoulliContinuousBernoulli(ContinuousBernoulli p, ContinuousBernoulli q) => Scoped(() =>
        p.Mean * (p.Logits - q.Logits) + p.LogNormaliser() + (-p.Probs).Log1p() - q.LogNormaliser() - (-q.Probs).Log1p());

    // α_q·log(s_p/s_q) - log(α_q/α_p) + α_q/α_p - 1; ∞ where p starts below q's support.
    static Tensor ParetoPareto(Pareto p, Pareto q) => Scoped(() =>
    {
        var alphaRatio = q.Alpha / p.Alpha;
        var kl = q.Alpha * (p.Scale / q.Scale).Log() - alphaRatio.Log() + alphaRatio - 1.0;
        return InfinityWhere(kl, p.Scale.Lt(q.Scale));
    });

    // The same transforms of two bases keep their divergence (an invertible map changes no KL).
    static Tensor TransformedTransformed(TransformedDistribution p, TransformedDistribution q)
    {
        bool same = p.Transforms.Count == q.Transforms.Count && ShapeRules.SameShape(p.EventShape, q.EventShape);
        for (int i = 0; same && i < p.Transforms.Count; i++) same = p.Transforms[i].SameAs(q.Transforms[i]);
        if (!same)
            throw new KilnException("kl_divergence", $"kl_divergence: no closed form for KL({p.GetType().Name} ‖ {q.GetType().Name}) with different transforms", KilnErrorKind.Unsupported);
        return Divergence(p.Base, q.Base);
    }

    static Tensor BetaGamma(Beta p, Gamma q) => Scoped(() =>
    {
        var total = p.Concentration1 + p.Concentration0;
        var logMean = p.Concentration1.Digamma() - total.Digamma();            // E_p[log x]
        return -p.Entropy() + q.Concentration.Lgamma() - q.Concentration * q.Rate.Log() - (q.Concentration - 1.0) * logMean
            + q.Rate * p.Concentration1 / total;
    });

    static Tensor BetaNormal(Beta p, Normal q) => Scoped(() =>
    {
        var total = p.Concentration1 + p.Concentration0;
        var mean = p.Concentration1 / total;
        var variance = q.Scale.Square();
        var secondMoment = (mean * (1.0 - mean) / (total + 1.0) + mean.Square()) * 0.5;
        return -p.Entropy() + (variance * (2 * Math.PI)).Log() * 0.5 + (secondMoment - q.Loc * mean + q.Loc.Square() * 0.5) / variance;
    });

    static Tensor ContinuousBernoulliNormal(ContinuousBernoulli p, Normal q) => Scoped(() =>
    {
        var normaliser = ((q.Loc / q.Scale).Square() + Math.Log(2 * Math.PI)) * 0.5 + q.Scale.Log();
        var quadratic = (p.Variance + p.Mean.Square() - q.Loc * p.Mean * 2.0) / (q.Scale.Square() * 2.0);
        return -p.Entropy() + normaliser + quadratic;
    });

    static Tensor ExponentialGamma(Exponential p, Gamma q) => Scoped(() =>
    {
        var ratio = q.Rate / p.Rate;
        return -q.Concentration * ratio.Log() + ratio + q.Concentration.Lgamma() + q.Concentration * Gumbel.EulerGamma - (1 + Gumbel.EulerGamma);
    });

    static Tensor ExponentialGumbel(Exponential p, Gumbel q) => Scoped(() =>
    {
        var product = p.Rate * q.Scale;
        var locRatio = q.Loc / q.Scale;
        return product.Log() - 1.0 - locRatio + locRatio.Exp() * product / (product + 1.0) + product.Reciprocal();
    });

    static Tensor ExponentialNormal(Exponential p, Normal q) => Scoped(() =>
    {
        var variance = q.Scale.Square();
        var rateSquared = p.Rate.Square();
        return (rateSquared * variance * (2 * Math.PI)).Log() * 0.5 - 1.0
            + (rateSquared.Reciprocal() - q.Loc / p.Rate + q.Loc.Square() * 0.5) / variance;
    });

    static Tensor GammaGumbel(Gamma p, Gumbel q) => Scoped(() =>
    {
        var k = p.Concentration;
        var product = p.Rate * q.Scale;
        var locRatio = q.Loc / q.Scale;
        var t1 = (k - 1.0) * k.Digamma() - k.Lgamma() - k;
        var t2 = product.Log() + k / product;
        var t3 = locRatio.Exp() * (product.Reciprocal() + 1.0).Pow(-k) - locRatio;
        return t1 + t2 + t3;
    });

    static Tensor GammaNormal(Gamma p, Normal q) => Scoped(() =>
    {
        var k = p.Concentration;
        var variance = q.Scale.Square();
        var rateSquared = p.Rate.Square();
        var t1 = (rateSquared * variance * (2 * Math.PI)).Log() * 0.5 - k - k.Lgamma();
        var moments = (k.Square() + k) * 0.5 / rateSquared - q.Loc * k / p.Rate + q.Loc.Square() * 0.5;
        return t1 + (k - 1.0) * k.Digamma() + moments / variance;
    });

    static Tensor GumbelNormal(Gumbel p, Normal q) => Scoped(() =>
    {
        var ratio = p.Scale / q.Scale;
        var t1 = (ratio / Math.Sqrt(2 * Math.PI)).Log();
        var t2 = (ratio * (Math.PI * 0.5)).Square() / 3.0;
        var t3 = ((p.Loc + p.Scale * Gumbel.EulerGamma - q.Loc) / q.Scale).Square() * 0.5;
        return -t1 + t2 + t3 - (Gumbel.EulerGamma + 1);
    });

    static Tensor LaplaceNormal(Laplace p, Normal q) => Scoped(() =>
    {
        var variance = q.Scale.Square();
        var ratio = p.Scale.Square() / variance;
        var t1 = (ratio * (2 / Math.PI)).Log() * 0.5;
        var moments = p.Loc.Square() * 0.5 - p.Loc * q.Loc + q.Loc.Square() * 0.5;
        return -t1 + ratio + moments / variance - 1.0;
    });

    static Tensor NormalGumbel(Normal p, Gumbel q) => Scoped(() =>
    {
        var meanRatio = p.Loc / q.Scale;
        var varianceRatio = (p.Scale / q.Scale).Square();
        var locRatio = q.Loc / q.Scale;
        var t3 = (-meanRatio + varianceRatio * 0.5 + locRatio).Exp();
        return -varianceRatio.Log() * 0.5 + meanRatio - locRatio + t3 - 0.5 * (1 + Math.Log(2 * Math.PI));
    });

    static Tensor NormalLaplace(Normal p, Laplace q) => Scoped(() =>
    {
        var shift = p.Loc - q.Loc;
        var standardized = shift / p.Scale;
        var t2 = p.Scale * (standardized.Square() * -0.5).Exp() * Math.Sqrt(2 / Math.PI);
        var t3 = shift * (standardized * Math.Sqrt(0.5)).Erf();
        return -(p.Scale / q.Scale).Log() + (t2 + t3) / q.Scale - 0.5 * (1 + Math.Log(0.5 * Math.PI));
    });

    // Pareto's mean exists only for α > 1 and its variance for α > 2: the divergence is infinite below.
    static Tensor ParetoExponential(Pareto p, Exponential q) => Scoped(() =>
    {
        var product = p.Scale * q.Rate;
        var kl = (p.Alpha / product).Log() - p.Alpha.Reciprocal() + p.Alpha * product / (p.Alpha - 1.0) - 1.0;
        return InfinityWhere(kl, p.Alpha.Le(1));
    });

    static Tensor ParetoGamma(Pareto p, Gamma q) => Scoped(() =>
    {
        var common = p.Scale.Log() + p.Alpha.Reciprocal();                       // E_p[log x]
        var t2 = q.Concentration.Lgamma() - q.Concentration * q.Rate.Log();
        var t4 = q.Rate * p.Alpha * p.Scale / (p.Alpha - 1.0);
        var kl = p.Alpha.Log() - common + t2 + (1.0 - q.Concentration) * common + t4 - 1.0;
        return InfinityWhere(kl, p.Alpha.Le(1));
    });

    static Tensor ParetoNormal(Pareto p, Normal q) => Scoped(() =>
    {
        var twiceVariance = q.Scale.Square() * 2.0;
        var common = p.Scale / (p.Alpha - 1.0);
        var t1 = (q.Scale * p.Alpha / p.Scale * Math.Sqrt(2 * Math.PI)).Log();
        var t3 = p.Alpha * common.Square() / (p.Alpha - 2.0);
        var t4 = (p.Alpha * common - q.Loc).Square();
        var kl = t1 - p.Alpha.Reciprocal() + (t3 + t4) / twiceVariance - 1.0;
        return InfinityWhere(kl, p.Alpha.Le(2));
    });

    static Tensor UniformBeta(Uniform p, Beta q) => Scoped(() =>
    {
        var width = p.High - p.Low;
        var t2 = (q.Concentration1 - 1.0) * (XLogX(p.High) - XLogX(p.Low) - width) / width;
        var t3 = (q.Concentration0 - 1.0) * (XLogX(1.0 - p.High) - XLogX(1.0 - p.Low) + width) / width;
        var logBeta = q.Concentration1.Lgamma() + q.Concentration0.Lgamma() - (q.Concentration1 + q.Concentration0).Lgamma();
        var kl = t3 + logBeta - width.Log() - t2;
        return InfinityWhere(kl, p.High.Gt(1).LogicalOr(p.Low.Lt(0)));
    });

    static Tensor UniformGamma(Uniform p, Gamma q) => Scoped(() =>
    {
        var width = p.High - p.Low;
        var t2 = q.Concentration.Lgamma() - q.Concentration * q.Rate.Log();
        var t3 = (1.0 - q.Concentration) * (XLogX(p.High) - XLogX(p.Low) - width) / width;
        var t4 = q.Rate * (p.High + p.Low) * 0.5;
        return InfinityWhere(-width.Log() + t2 + t3 + t4, p.Low.Lt(0));
    });

    static Tensor UniformGumbel(Uniform p, Gumbel q) => Scoped(() =>
    {
        var common = q.Scale / (p.High - p.Low);
        var high = (p.High - q.Loc) / q.Scale;
        var low = (p.Low - q.Loc) / q.Scale;
        return common.Log() + (high + low) * 0.5 - common * ((-high).Exp() - (-low).Exp());
    });

    static Tensor UniformNormal(Uniform p, Normal q) => Scoped(() =>
    {
        var width = p.High - p.Low;
        var t1 = (q.Scale * Math.Sqrt(2 * Math.PI) / width).Log();
        var t3 = ((p.High + p.Low - q.Loc * 2.0) * 0.5).Square();
        return t1 + (width.Square() / 12.0 + t3) * 0.5 / q.Scale.Square();
    });

    static Tensor UniformPareto(Uniform p, Pareto q) => Scoped(() =>
    {
        var width = p.High - p.Low;
        var t1 = (q.Alpha * q.Scale.Pow(q.Alpha) * width).Log();
        var t2 = (XLogX(p.High) - XLogX(p.Low) - width) / width;
        return InfinityWhere(t2 * (q.Alpha + 1.0) - t1, p.Low.Lt(q.Scale));
    });
}
