using System;

namespace Kiln.Distributions;

/// <summary>
/// The binomial distribution: successes in <c>total_count</c> Bernoulli trials of probability p
/// (<c>torch.distributions.Binomial</c>), given probabilities or log-odds.
/// </summary>
public sealed class Binomial : Distribution
{
    /// <summary>Binomials of <paramref name="totalCount"/> trials with success <paramref name="probs"/> or log-odds <paramref name="logits"/> (exactly one), broadcast.</summary>
    public Binomial(Tensor totalCount, Tensor? probs = null, Tensor? logits = null) : this(Bernoulli.CountAndParameter("Binomial", totalCount, probs, logits), logits is not null) { }

    /// <summary>Binomials of <paramref name="totalCount"/> trials each.</summary>
    public Binomial(int totalCount, Tensor? probs = null, Tensor? logits = null)
        : this(Tensor.Full([], totalCount, Bernoulli.Parameter("Binomial", probs, logits).DType, (probs ?? logits)!.Device), probs, logits) { }

    Binomial((Tensor Count, Tensor Parameter) p, bool fromLogits) : base(p.Parameter.ShapeArray, [])
    {
        TotalCount = p.Count;
        (Probs, Logits) = Bernoulli.ProbsAndLogits(fromLogits ? null : p.Parameter, fromLogits ? p.Parameter : null);
        CheckParameters(("total_count", TotalCount, Constraints.NonnegativeInteger), ("probs", Probs, Constraints.UnitInterval), ("logits", Logits, Constraints.Real));
    }

    /// <summary>The numbers of trials n (a floating tensor, as PyTorch keeps it).</summary>
    public Tensor TotalCount { get; }

    /// <summary>The success probabilities p.</summary>
    public Tensor Probs { get; }

    /// <summary>The log-odds.</summary>
    public Tensor Logits { get; }

    /// <summary>n·p.</summary>
    public override Tensor Mean => TotalCount * Probs;

    /// <summary>n·p·(1 - p).</summary>
    public override Tensor Variance
    {
        get
        {
            using var rest = 1.0 - Probs;
            using var mean = TotalCount * Probs;
            return mean * rest;
        }
    }

    /// <summary>
    /// Success counts (no gradient), drawn exactly on the host by inverting the cdf from 0 — in pieces of trials whose
    /// chance of no success stays representable, which add up as binomials of one p do — on the rarer side of p, so a draw
    /// costs about n·min(p, 1 - p) steps.
    /// </summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        var shape = ExtendedShape(sampleShape);
        using var counts = TotalCount.Expand(shape);
        using var probs = Probs.Expand(shape);
        using var countsWide = counts.To(DType.Float64);
        using var probsWide = probs.To(DType.Float64);
        var n = countsWide.ToArray<double>();
        var p = probsWide.ToArray<double>();
        var source = new VariateSource(generator ?? Generator.Default);
        var draws = new double[n.Length];
        for (int i = 0; i < draws.Length; i++) draws[i] = Draw((long)n[i], p[i], source);
        using var host = Tensor.From(draws, shape);
        using var typed = host.To(Probs.DType);
        return typed.To(Probs.Device);
    }

    /// <summary>⌊(n + 1)·p⌋, at most n.</summary>
    public override Tensor Mode
    {
        get
        {
            using var trials = TotalCount + 1.0;
            using var scaled = trials * Probs;
            using var floor = scaled.Floor();
            return floor.Minimum(TotalCount);
        }
    }

    /// <summary>log C(n, k) + k·logit - n·log(1 + e^logit), written as PyTorch's stable form.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var nPlus = TotalCount + 1.0;
        using var logFactorialN = nPlus.Lgamma();
        using var kPlus = value + 1.0;
        using var logFactorialK = kPlus.Lgamma();
        using var rest = TotalCount - value;
        using var restPlus = rest + 1.0;
        using var logFactorialRest = restPlus.Lgamma();
        // n·max(logit, 0) + n·log1p(e^-|logit|) = n·log(1 + e^logit), without overflow.
        using var positive = Logits.ClampMin(0);
        using var magnitude = Logits.Abs();
        using var negative = magnitude.Neg();
        using var exp = negative.Exp();
        using var softplus = exp.Log1p();
        using var perTrial = positive + softplus;
        using var normaliser = TotalCount * perTrial;
        using var kernel = value * Logits;
        return kernel - normaliser + logFactorialN - logFactorialK - logFactorialRest;
    }

    /// <summary>-Σₖ P(k)·log P(k) over the support 0..n, which must be one n for the whole batch (PyTorch's rule).</summary>
    public override Tensor Entropy()
    {
        using var wide = TotalCount.To(DType.Float64);
        var counts = wide.ToArray<double>();
        double n = counts[0];
        foreach (var c in counts)
            if (c != n) throw new KilnException("Binomial.entropy", "Binomial.entropy: inhomogeneous total_count is not supported (every distribution of the batch must have the same number of trials)", KilnErrorKind.Unsupported);
        int support = (int)n + 1;
        var columnShape = new int[BatchShape.Length + 1];
        Array.Fill(columnShape, 1);
        columnShape[0] = support;
        using var ks = Tensor.Arange(0.0, support, 1.0, Probs.DType);
        using var onDevice = ks.To(Probs.Device);
        using var column = onDevice.Reshape(columnShape);          // [n + 1, 1, ...]: each k against the whole batch
        using var logP = LogProb(column);
        using var p = logP.Exp();
        using var terms = p * logP;
        using var sum = terms.Sum(0);
        return sum.Neg();
    }

    /// <summary>One exact binomial draw: inversion from 0 on the rarer side of p, over pieces of trials whose (1 - p)^m is representable.</summary>
    static double Draw(long n, double p, VariateSource source)
    {
        if (double.IsNaN(p) || n < 0) return double.NaN;
        if (n == 0 || p <= 0) return 0;
        if (p >= 1) return n;
        bool flip = p > 0.5;
        double q = flip ? p : 1 - p;              // the failure probability of the rarer outcome's trials
        double r = flip ? 1 - p : p;
        long piece = Math.Max(1, (long)Math.Floor(-700 / Math.Log(q)));
        long successes = 0;
        for (long done = 0; done < n; done += piece)
        {
            long m = Math.Min(piece, n - done);
            double ratio = r / q, a = (m + 1) * ratio;
            double term = Math.Pow(q, m), u = source.Uniform();
            long x = 0;
            while (u > term && x < m)
            {
                u -= term;
                x++;
                term *= a / x - ratio;
            }
            successes += x;
        }
        return flip ? n - successes : successes;
    }


    /// <summary>0, 1, ..., total_count.</summary>
    public override Constraint Support => Constraints.IntegerInterval(0, TotalCount);

    /// <inheritdoc/>
    public override bool HasEnumerateSupport => true;

    /// <summary>0, 1, ..., n, for a batch with one total count (PyTorch refuses an inhomogeneous one too).</summary>
    public override Tensor EnumerateSupport(bool expand = true)
    {
        double n;
        using (Autograd.NoGrad())
        {
            using var max = TotalCount.Max();
            using var min = TotalCount.Min();
            n = max.Item<double>();
            if (min.Item<double>() != n)
                throw new KilnException("enumerate_support", "enumerate_support: Binomial with an inhomogeneous total_count has no common support to enumerate", KilnErrorKind.Unsupported);
        }
        using var values = Tensor.Arange(0, (long)n + 1).To(Probs.DType).To(Probs.Device);
        return Enumerated(values, expand);
    }
}
