using System;

namespace Kiln.Distributions;

/// <summary>
/// The multinomial distribution: counts per category of <c>total_count</c> categorical draws
/// (<c>torch.distributions.Multinomial</c>), event [..., K].
/// </summary>
public sealed class Multinomial : Distribution
{
    readonly Categorical _categorical;

    /// <summary>Multinomials of <paramref name="totalCount"/> draws over <paramref name="probs"/> or <paramref name="logits"/> [..., K]: exactly one.</summary>
    public Multinomial(int totalCount = 1, Tensor? probs = null, Tensor? logits = null) : this(totalCount, new Categorical(probs, logits)) { }

    Multinomial(int totalCount, Categorical categorical) : base(categorical.BatchShape, [categorical.NumEvents])
    {
        if (totalCount < 0) throw new KilnException("Multinomial", $"Multinomial: total_count must be non-negative, got {totalCount}");
        TotalCount = totalCount;
        _categorical = categorical;
    }

    /// <summary>The number of draws n.</summary>
    public int TotalCount { get; }

    /// <summary>The normalised probabilities [..., K].</summary>
    public Tensor Probs => _categorical.Probs;

    /// <summary>The normalised log-probabilities [..., K].</summary>
    public Tensor Logits => _categorical.Logits;

    /// <summary>n·p.</summary>
    public override Tensor Mean => Probs * TotalCount;

    /// <summary>n·p·(1 - p).</summary>
    public override Tensor Variance
    {
        get
        {
            using var rest = 1.0 - Probs;
            using var spread = Probs * rest;
            return spread * TotalCount;
        }
    }

    /// <summary>The category counts of n categorical draws, in the probabilities' dtype (no gradient).</summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        var shape = ExtendedShape(sampleShape);
        if (TotalCount == 0) return Tensor.Zeros(shape, Probs.DType, Probs.Device);
        using var draws = _categorical.Sample([TotalCount, .. sampleShape ?? []], generator);   // [n, sample..., batch...]
        using var hot = NN.F.OneHot(draws, _categorical.NumEvents);
        using var counts = hot.Sum(0);
        return counts.To(Probs.DType);
    }

    /// <summary>log (Σx)! - Σ log xₖ! + Σ xₖ·log pₖ (0·log 0 read as 0).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var zero = value.Eq(0);
        using var impossible = Logits.Eq(double.NegativeInfinity);
        using var both = zero.BitwiseAnd(impossible);
        using var nothing = Tensor.Full([], 0, Logits.DType, Logits.Device);
        using var logits = Tensor.Where(both, nothing, Logits);
        using var weighted = value * logits;
        using var logPowers = weighted.Sum(-1);
        using var plusOne = value + 1.0;
        using var lgammas = plusOne.Lgamma();
        using var logFactorials = lgammas.Sum(-1);
        // log n! read as log Γ(Σx + 1), as PyTorch does (the same value on the support; the gradient in x follows it).
        using var total = value.Sum(-1);
        using var totalPlus = total + 1.0;
        using var logFactorialN = totalPlus.Lgamma();
        using var kernel = logPowers - logFactorials;
        return kernel + logFactorialN;
    }

    /// <summary>
    /// n·H(categorical) - log n! + Σₖ Σ_{x=1..n} Binomial(n, pₖ)(x)·log x!, PyTorch's closed form through each
    /// category's binomial marginal.
    /// </summary>
    public override Tensor Entropy()
    {
        int n = TotalCount;
        using var categoricalEntropy = _categorical.Entropy();
        using var term1 = categoricalEntropy * n - LogFactorial(n);
        if (n == 0) return term1.To(term1.DType);
        var supportShape = new int[BatchShape.Length + 2];
        Array.Fill(supportShape, 1);
        supportShape[0] = n;
        using var ks = Tensor.Arange(1.0, n + 1, 1.0, Probs.DType);
        using var onDevice = ks.To(Probs.Device);
        using var support = onDevice.Reshape(supportShape);              // [n, 1, ..., 1]: 1..n against every p
        using var counts = Tensor.Full([], n, Probs.DType, Probs.Device);
        var binomial = new Binomial(counts, Probs);
        using var logP = binomial.LogProb(support);                     // [n, ..., K]
        using var p = logP.Exp();
        using var plusOne = support + 1.0;
        using var weights = plusOne.Lgamma();
        using var terms = p * weights;
        int[] dims = [0, -1];
        using var sum = terms.Sum(dims);
        return term1 + sum;
    }

    static double LogFactorial(int n)
    {
        double sum = 0;
        for (int k = 2; k <= n; k++) sum += Math.Log(k);
        return sum;
    }
}
