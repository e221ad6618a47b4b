namespace Kiln.Distributions;

/// <summary>
/// The categorical distribution over one-hot vectors of K categories (<c>torch.distributions.OneHotCategorical</c>):
/// samples are [..., K] vectors with a single 1, log-probabilities read at the hot index.
/// </summary>
public sealed class OneHotCategorical : Distribution
{
    readonly Categorical _categorical;

    /// <summary>The categorical over the hot index.</summary>
    internal Categorical Inner => _categorical;

    /// <summary>One-hot categoricals with <paramref name="probs"/> or <paramref name="logits"/> [..., K]: exactly one.</summary>
    public OneHotCategorical(Tensor? probs = null, Tensor? logits = null) : this(new Categorical(probs, logits)) { }

    OneHotCategorical(Categorical categorical) : base(categorical.BatchShape, [categorical.NumEvents]) => _categorical = categorical;

    /// <summary>The normalised probabilities [..., K].</summary>
    public Tensor Probs => _categorical.Probs;

    /// <summary>The normalised log-probabilities [..., K].</summary>
    public Tensor Logits => _categorical.Logits;

    /// <summary>The probabilities (each coordinate's mean).</summary>
    public override Tensor Mean => Probs.To(Probs.DType);

    /// <summary>p·(1 - p) per coordinate.</summary>
    public override Tensor Variance
    {
        get
        {
            using var rest = 1.0 - Probs;
            return Probs * rest;
        }
    }

    /// <summary>One-hot vectors of categorical draws, in the probabilities' dtype (no gradient).</summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        using var indices = _categorical.Sample(sampleShape, generator);
        using var hot = NN.F.OneHot(indices, _categorical.NumEvents);
        return hot.To(Probs.DType);
    }

    /// <summary>The one-hot vector of the most probable category.</summary>
    public override Tensor Mode
    {
        get
        {
            using var index = _categorical.Mode;
            using var hot = NN.F.OneHot(index, _categorical.NumEvents);
            return hot.To(Probs.DType);
        }
    }

    /// <summary>The log-probability of the category each vector of <paramref name="value"/> marks (its largest entry).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        var (values, indices) = value.Max(-1);
        values.Dispose();
        using (indices) return _categorical.LogProb(indices);
    }

    /// <inheritdoc/>
    public override Tensor Entropy() => _categorical.Entropy();

    /// <inheritdoc/>
    public override bool HasEnumerateSupport => true;

    /// <summary>The K one-hot vectors, in the probabilities' dtype.</summary>
    public override Tensor EnumerateSupport(bool expand = true)
    {
        using var eye = Tensor.Eye(_categorical.NumEvents, _categorical.NumEvents, Probs.DType).To(Probs.Device);
        return Enumerated(eye, expand);
    }
}
