using System;

namespace Kiln.Distributions;

/// <summary>Closed-form Kullback-Leibler divergences KL(p ‖ q) between distributions of one family (<c>torch.distributions.kl_divergence</c>).</summary>
public static partial class Kl
{
    /// <summary>
    /// KL(p ‖ q) for each pair of the two batches: every pair PyTorch's registry has in closed form — the same-family pairs
    /// (Normal, Uniform, Bernoulli, Binomial, Categorical, OneHotCategorical, (LowRank)MultivariateNormal, Exponential,
    /// Laplace, Gamma, Chi2, Beta, Poisson, Dirichlet, Cauchy, Gumbel, Geometric, HalfNormal, Pareto, ContinuousBernoulli,
    /// transformed distributions with the same transforms, Independent pairs reinterpreting the same dims) and the
    /// cross-family ones (e.g. Beta ‖ Normal, Gamma ‖ Gumbel, Uniform ‖ Pareto), +∞ where q has no density over part of
    /// p's support.
    /// </summary>
    public static Tensor Divergence(Distribution p, Distribution q) => (p, q) switch
    {
        (Normal a, Normal b) => NormalNormal(a, b),
        (Bernoulli a, Bernoulli b) => BernoulliBernoulli(a, b),
        (Categorical a, Categorical b) => CategoricalCategorical(a, b),
        (Uniform a, Uniform b) => UniformUniform(a, b),
        (MultivariateNormal a, MultivariateNormal b) => MvnMvn(a, b),
        // A low-rank normal through its full Cholesky factor (k × k: PyTorch keeps the capacitance; same values).
        (LowRankMultivariateNormal a, MultivariateNormal or LowRankMultivariateNormal) => Divergence(a.Full(), q),
        (MultivariateNormal a, LowRankMultivariateNormal b) => MvnMvn(a, b.Full()),
        (Exponential a, Exponential b) => ExponentialExponential(a, b),
        (Laplace a, Laplace b) => LaplaceLaplace(a, b),
        (Gamma a, Gamma b) => GammaGamma(a, b),
        (Beta a, Beta b) => BetaBeta(a, b),
        (Poisson a, Poisson b) => PoissonPoisson(a, b),
        (Dirichlet a, Dirichlet b) => DirichletDirichlet(a, b),
        (Cauchy a, Cauchy b) => CauchyCauchy(a, b),
        (Gumbel a, Gumbel b) => GumbelGumbel(a, b),
        (Geometric a, Geometric b) => GeometricGeometric(a, b),
        (HalfNormal a, HalfNormal b) => HalfNormalHalfNormal(a, b),
        (Independent a, Independent b) => IndependentIndependent(a, b),
        _ => CrossFamily(p, q) ?? throw new KilnException("kl_divergence", $"kl_divergence: no closed form for KL({p.GetType().Name} ‖ {q.GetType().Name})", KilnErrorKind.Unsupported),
    };

    // The bases' divergence summed over the reinterpreted dims (both must reinterpret the same number).
    static Tensor IndependentIndependent(Independent p, Independent q)
    {
        if (p.ReinterpretedBatchNdims != q.ReinterpretedBatchNdims)
            throw new KilnException("kl_divergence", $"kl_divergence: Independent distributions reinterpret {p.ReinterpretedBatchNdims} and {q.ReinterpretedBatchNdims} batch dims; they must match", KilnErrorKind.Unsupported);
        using var each = Divergence(p.Base, q.Base);
        return Independent.SumRightmost(each, p.ReinterpretedBatchNdims);
    }

    // ½·(σp²/σq² + ((μp - μq)/σq)² - 1 - log(σp²/σq²))
    static Tensor NormalNormal(Normal p, Normal q)
    {
        using var ratio = p.Scale / q.Scale;
        using var varRatio = ratio.Square();
        using var shift = (p.Loc - q.Loc) / q.Scale;
        using var t1 = shift.Square();
        using var logRatio = varRatio.Log();
        return (varRatio + t1 - 1.0 - logRatio) * 0.5;
    }

    // p·(softplus(-lq) - softplus(-lp)) + (1 - p)·(softplus(lq) - softplus(lp)), infinite where q rules out what p allows.
    static Tensor BernoulliBernoulli(Bernoulli p, Bernoulli q)
    {
        using var inf = Tensor.Full([], double.PositiveInfinity, p.Probs.DType, p.Probs.Device);
        using var zero = Tensor.Full([], 0, p.Probs.DType, p.Probs.Device);
        using var t1Raw = p.Probs * ((-q.Logits).Softplus() - (-p.Logits).Softplus());
        using var qZero = q.Probs.Eq(0);
        using var pZero = p.Probs.Eq(0);
        using var t1Inf = Tensor.Where(qZero, inf, t1Raw);
        using var t1 = Tensor.Where(pZero, zero, t1Inf);
        using var t2Raw = (1.0 - p.Probs) * (q.Logits.Softplus() - p.Logits.Softplus());
        using var qOne = q.Probs.Eq(1);
        using var pOne = p.Probs.Eq(1);
        using var t2Inf = Tensor.Where(qOne, inf, t2Raw);
        using var t2 = Tensor.Where(pOne, zero, t2Inf);
        return t1 + t2;
    }

    // Σ p·(log p - log q): infinite where q is 0 and p is not, 0 where p is 0.
    static Tensor CategoricalCategorical(Categorical p, Categorical q)
    {
        using var inf = Tensor.Full([], double.PositiveInfinity, p.Probs.DType, p.Probs.Device);
        using var zero = Tensor.Full([], 0, p.Probs.DType, p.Probs.Device);
        using var raw = p.Probs * (p.Logits - q.Logits);
        using var qZero = q.Probs.Eq(0);
        using var pZero = p.Probs.Eq(0);
        using var withInf = Tensor.Where(qZero, inf, raw);
        using var t = Tensor.Where(pZero, zero, withInf);
        return t.Sum(-1);
    }

    // log((hq - lq)/(hp - lp)) where q's support covers p's, else +inf.
    static Tensor UniformUniform(Uniform p, Uniform q)
    {
        using var ratio = (q.High - q.Low) / (p.High - p.Low);
        using var logRatio = ratio.Log();
        using var lowOut = q.Low.Gt(p.Low);
        using var highOut = q.High.Lt(p.High);
        using var outside = lowOut.BitwiseOr(highOut);
        using var inf = Tensor.Full([], double.PositiveInfinity, p.Low.DType, p.Low.Device);
        return Tensor.Where(outside, inf, logRatio);
    }

    // ½·(|Lq⁻¹Lp|²_F + |Lq⁻¹(μq - μp)|² - k) + Σ log diag Lq - Σ log diag Lp
    static Tensor MvnMvn(MultivariateNormal p, MultivariateNormal q)
    {
        int k = p.EventShape[0];
        if (q.EventShape[0] != k)
            throw new KilnException("kl_divergence", $"kl_divergence: multivariate normals of different sizes ({k} and {q.EventShape[0]})", KilnErrorKind.Shape);
        var batch = Compiler.Shapes.ShapeRules.Broadcast("kl_divergence", p.BatchShape, q.BatchShape);
        using var lq = q.Factor.Expand([.. batch, k, k]);
        using var lp = p.Factor.Expand([.. batch, k, k]);
        using var lqLower = lq.Tril();         // triangular solves read the lower triangles only
        using var lpLower = lp.Tril();
        using var m = Linalg.Solve(lqLower, lpLower);
        using var frob = m.Square();
        using var trace = frob.Sum([-2, -1]);
        using var shift = q.Loc - p.Loc;
        using var mahalanobis = MultivariateNormal.Mahalanobis(q.Factor, shift);
        using var halfQ = MultivariateNormal.HalfLogDet(q.Factor);
        using var halfP = MultivariateNormal.HalfLogDet(p.Factor);
        using var quadratic = (trace + mahalanobis - (double)k) * 0.5;
        return quadratic + halfQ - halfP;
    }

    // r - 1 - log r with r = λq/λp
    static Tensor ExponentialExponential(Exponential p, Exponential q)
    {
        using var ratio = q.Rate / p.Rate;
        using var log = ratio.Log();
        return ratio - 1.0 - log;
    }

    // -log(bp/bq) + |μp - μq|/bq + (bp/bq)·exp(-|μp - μq|/bp) - 1
    static Tensor LaplaceLaplace(Laplace p, Laplace q)
    {
        using var ratio = p.Scale / q.Scale;
        using var distance = (p.Loc - q.Loc).Abs();
        using var logRatio = ratio.Log();
        using var t2 = distance / q.Scale;
        using var decay = (distance / p.Scale).Neg().Exp();
        using var t3 = ratio * decay;
        return t2 + t3 - logRatio - 1.0;
    }

    // αq·log(βp/βq) + log Γ(αq) - log Γ(αp) + (αp - αq)·ψ(αp) + (βq - βp)·αp/βp
    static Tensor GammaGamma(Gamma p, Gamma q)
    {
        using var rateRatio = p.Rate / q.Rate;
        using var t1 = q.Concentration * rateRatio.Log();
        using var t2 = q.Concentration.Lgamma() - p.Concentration.Lgamma();
        using var t3 = (p.Concentration - q.Concentration) * p.Concentration.Digamma();
        using var t4 = (q.Rate - p.Rate) * (p.Concentration / p.Rate);
        return t1 + t2 + t3 + t4;
    }

    // log B(αq, βq) - log B(αp, βp) + (αp - αq)(ψ(αp) - ψ(sp)) + (βp - βq)(ψ(βp) - ψ(sp)), sp = αp + βp
    static Tensor BetaBeta(Beta p, Beta q)
    {
        using var sum = p.Concentration1 + p.Concentration0;
        using var psiSum = sum.Digamma();
        using var logBq = Beta.LogBeta(q.Concentration1, q.Concentration0);
        using var logBp = Beta.LogBeta(p.Concentration1, p.Concentration0);
        using var a = (p.Concentration1 - q.Concentration1) * (p.Concentration1.Digamma() - psiSum);
        using var b = (p.Concentration0 - q.Concentration0) * (p.Concentration0.Digamma() - psiSum);
        return logBq - logBp + a + b;
    }

    // λp·(log λp - log λq) - (λp - λq)
    static Tensor PoissonPoisson(Poisson p, Poisson q)
    {
        using var logRatio = p.Rate.Log() - q.Rate.Log();
        return p.Rate * logRatio - (p.Rate - q.Rate);
    }

    // log Γ(Σp) - log Γ(Σq) - Σ(log Γ(p) - log Γ(q)) + Σ (p - q)·(ψ(p) - ψ(Σp))
    static Tensor DirichletDirichlet(Dirichlet p, Dirichlet q)
    {
        using var sumP = p.Concentration.Sum(-1);
        using var sumQ = q.Concentration.Sum(-1);
        using var t1 = sumP.Lgamma() - sumQ.Lgamma();
        using var lgammaGap = p.Concentration.Lgamma() - q.Concentration.Lgamma();
        using var t2 = lgammaGap.Sum(-1);
        using var t3 = p.Concentration - q.Concentration;
        using var psiSum = sumP.Digamma();
        using var t4 = p.Concentration.Digamma() - psiSum.Unsqueeze(-1);
        using var cross = t3 * t4;
        using var crossSum = cross.Sum(-1);
        return t1 - t2 + crossSum;
    }

    // log(((γp + γq)² + (μp - μq)²) / (4·γp·γq))
    static Tensor CauchyCauchy(Cauchy p, Cauchy q)
    {
        using var widths = p.Scale + q.Scale;
        using var shift = p.Loc - q.Loc;
        using var numerator = widths.Square() + shift.Square();
        using var denominator = p.Scale * q.Scale * 4.0;
        using var ratio = numerator / denominator;
        return ratio.Log();
    }

    // With c1 = βp/βq, c2 = μq/βq, c3 = μp/βq: -log c1 - c2 + c3 + c1·γ + exp(c2 + log Γ(1 + c1) - c3) - (1 + γ)
    static Tensor GumbelGumbel(Gumbel p, Gumbel q)
    {
        using var ct1 = p.Scale / q.Scale;
        using var ct2 = q.Loc / q.Scale;
        using var ct3 = p.Loc / q.Scale;
        using var logCt1 = ct1.Log();
        using var onePlus = ct1 + 1.0;
        using var lgamma = onePlus.Lgamma();
        using var exponent = ct2 + lgamma - ct3;
        using var exp = exponent.Exp();
        using var t1 = logCt1.Neg() - ct2 + ct3 + ct1 * Gumbel.EulerGamma;
        return t1 + exp - (1 + Gumbel.EulerGamma);
    }

    // -H(p) - E_p[k]·log(1 - q) - log q = -H(p) - log(1 - q)/p - logit(q), as E_p[k] = 1/p - 1
    static Tensor GeometricGeometric(Geometric p, Geometric q)
    {
        using var entropy = p.Entropy();
        using var rest = q.Probs.Neg();
        using var logRest = rest.Log1p();
        using var perSuccess = logRest / p.Probs;
        return entropy.Neg() - perSuccess - q.Logits;
    }

    // The normals' divergence: folding both at 0 keeps it (½·(r² - 1 - log r²), r = σp/σq).
    static Tensor HalfNormalHalfNormal(HalfNormal p, HalfNormal q)
    {
        using var ratio = p.Scale / q.Scale;
        using var square = ratio.Square();
        using var log = square.Log();
        return (square - 1.0 - log) * 0.5;
    }
}
