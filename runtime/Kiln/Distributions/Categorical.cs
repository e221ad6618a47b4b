using System;
using Kiln.Compiler.Shapes;

namespace Kiln.Distributions;

/// <summary>
/// The categorical distribution over 0..K-1 (<c>torch.distributions.Categorical</c>), given probabilities (normalised
/// here) or unnormalised logits over the last dim.
/// </summary>
public sealed class Categorical : Distribution
{
    /// <summary>Categoricals with <paramref name="probs"/> or <paramref name="logits"/> [..., K]: exactly one.</summary>
    public Categorical(Tensor? probs = null, Tensor? logits = null) : base(BatchOf(Bernoulli.Parameter("Categorical", probs, logits)), [])
    {
        if (logits is not null)
        {
            using var normaliser = logits.LogSumExp(-1, keepDim: true);
            Logits = logits - normaliser;
            Probs = Logits.Softmax(-1);
        }
        else
        {
            using var total = probs!.Sum(-1, keepDim: true);
            Probs = probs / total;
            Logits = ProbsToLogits(Probs, binary: false);
        }
        NumEvents = Probs.Size(-1);
        CheckParameters(("probs", Probs, Constraints.Simplex), ("logits", Logits, Constraints.Independent(Constraints.Real, 1)));
    }

    /// <summary>The normalised probabilities [..., K].</summary>
    public Tensor Probs { get; }

    /// <summary>The normalised log-probabilities [..., K].</summary>
    public Tensor Logits { get; }

    /// <summary>K.</summary>
    public int NumEvents { get; }

    /// <summary>Undefined for categories: NaN, as PyTorch.</summary>
    public override Tensor Mean => Tensor.Full(BatchShape, double.NaN, Probs.DType, Probs.Device);

    /// <summary>Undefined for categories: NaN, as PyTorch.</summary>
    public override Tensor Variance => Tensor.Full(BatchShape, double.NaN, Probs.DType, Probs.Device);

    /// <summary>int64 category draws of shape sampleShape + batch.</summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        int count = (int)ShapeRules.Numel(sampleShape ?? []);
        using var rows = Probs.Reshape(-1, NumEvents);
        using var draws = rows.Multinomial(Math.Max(count, 1), replacement: true, generator);   // [rows, count]
        using var bySample = draws.T;
        using var picked = count == 0 ? bySample.Narrow(0, 0, 0) : bySample.To(bySample.DType);
        return picked.Reshape(ExtendedShape(sampleShape));
    }

    /// <summary>The most probable category (the first on ties).</summary>
    public override Tensor Mode => Probs.ArgMax(-1);

    /// <summary>The log-probability of each category index in <paramref name="value"/> (broadcast against the batch).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        const string op = "Categorical";
        if (value.DType.IsFloatingPoint() || value.DType == DType.Bool)
            throw new KilnException(op, $"{op}: log_prob expects integer category indices, got {value.DType}", KilnErrorKind.DType);
        using var indices = value.To(DType.Int64);
        using var lifted = indices.Unsqueeze(-1);
        var shape = ShapeRules.Broadcast(op, lifted.ShapeArray, Logits.ShapeArray);
        using var logPmf = Logits.Expand(shape);
        var indexShape = (int[])shape.Clone();
        indexShape[^1] = 1;
        using var index = lifted.Expand(indexShape);
        using var picked = logPmf.Gather(-1, index.Contiguous());
        return picked.Squeeze(-1);
    }

    /// <summary>-Σ p·log p, the log-probabilities clamped at the dtype's lowest finite value (so p = 0 adds 0).</summary>
    public override Tensor Entropy()
    {
        using var clamped = Logits.Clamp(Logits.DType.MinValue(), null);
        using var terms = clamped * Probs;
        using var sum = terms.Sum(-1);
        return sum.Neg();
    }

    static int[] BatchOf(Tensor parameter)
    {
        if (parameter.Dim < 1) throw new KilnException("Categorical", "Categorical: parameters must have at least one dimension (the categories)", KilnErrorKind.Shape);
        return parameter.ShapeArray[..^1];
    }

    /// <summary>PyTorch's probs_to_logits: log p (log-odds for a binary family) of probabilities clamped to [eps, 1 - eps].</summary>
    internal static Tensor ProbsToLogits(Tensor probs, bool binary)
    {
        double eps = probs.DType.Eps();
        using var clamped = probs.Clamp(eps, 1 - eps);
        if (!binary) return clamped.Log();
        using var log = clamped.Log();
        using var rest = clamped.Neg();
        using var logRest = rest.Log1p();
        return log - logRest;
    }

    /// <summary>0, 1, ..., K - 1.</summary>
    public override Constraint Support => Constraints.IntegerInterval(0, NumEvents - 1);

    /// <inheritdoc/>
    public override bool HasEnumerateSupport => true;

    /// <summary>0, 1, ..., K - 1 (int64).</summary>
    public override Tensor EnumerateSupport(bool expand = true)
    {
        using var values = Tensor.Arange(0, NumEvents).To(Probs.Device);
        return Enumerated(values, expand);
    }
}
