namespace Kiln.NN;

/// <summary>A lookup table of <c>numEmbeddings</c> vectors (<c>nn.Embedding</c>); weights N(0, 1), the padding row zero and untrained.</summary>
public class Embedding : Module<Tensor, Tensor>
{
    /// <summary>A table of <paramref name="numEmbeddings"/> vectors of size <paramref name="embeddingDim"/>.</summary>
    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null, DType dtype = DType.Float32)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new KilnException("Embedding", $"Embedding: num_embeddings and embedding_dim must be positive, got {numEmbeddings}, {embeddingDim}");
        if (paddingIdx is int p)
        {
            if (p >= numEmbeddings || p < -numEmbeddings) throw new KilnException("Embedding", $"Embedding: Padding_idx must be within num_embeddings (got {p} for {numEmbeddings})");
            paddingIdx = p < 0 ? p + numEmbeddings : p;
        }
        NumEmbeddings = numEmbeddings; EmbeddingDim = embeddingDim; PaddingIdx = paddingIdx;
        var w = RegisterParameter("weight", Parameter(Tensor.Empty(new[] { numEmbeddings, embeddingDim }, dtype)))!;
        Init.Normal_(w);
        if (paddingIdx is int pi) using (Autograd.NoGrad()) { using var row = w.Select(0, pi); row.Fill_(0); }
    }

    /// <summary>A table sharing <paramref name="source"/>'s weight (no new storage): the base of layers that wrap an embedding in place, such as LoRA.</summary>
    protected Embedding(Embedding source)
    {
        System.ArgumentNullException.ThrowIfNull(source);
        NumEmbeddings = source.NumEmbeddings; EmbeddingDim = source.EmbeddingDim; PaddingIdx = source.PaddingIdx;
        RegisterParameter("weight", source.Weight);
    }

    /// <summary>Table size.</summary>
    public int NumEmbeddings { get; }
    /// <summary>Vector size.</summary>
    public int EmbeddingDim { get; }
    /// <summary>The row that gets no gradient, or null.</summary>
    public int? PaddingIdx { get; }
    /// <summary>The table [num_embeddings, embedding_dim].</summary>
    public Tensor Weight => TensorMember("weight")!;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Embedding(input, Weight, PaddingIdx);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"{NumEmbeddings}, {EmbeddingDim}" + (PaddingIdx is int p ? $", padding_idx={p}" : "");
}

/// <summary>
/// Sums, means or maxima of bags of embeddings (<c>nn.EmbeddingBag</c>); weights N(0, 1), the padding row zero and left out
/// of every bag. See <see cref="F.EmbeddingBag"/>.
/// </summary>
public sealed class EmbeddingBag : Module<Tensor, Tensor>
{
    /// <summary>A table of <paramref name="numEmbeddings"/> vectors reduced per bag by <paramref name="mode"/> ("sum", "mean" or "max").</summary>
    public EmbeddingBag(int numEmbeddings, int embeddingDim, string mode = "mean", bool includeLastOffset = false, int? paddingIdx = null, DType dtype = DType.Float32)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new KilnException("EmbeddingBag", $"EmbeddingBag: num_embeddings and embedding_dim must be positive, got {numEmbeddings}, {embeddingDim}");
        if (mode is not ("sum" or "mean" or "max")) throw new KilnException("EmbeddingBag", $"EmbeddingBag: mode has to be one of sum, mean or max, got '{mode}'");
        if (paddingIdx is int p)
        {
            if (p >= numEmbeddings || p < -numEmbeddings) throw new KilnException("EmbeddingBag", $"EmbeddingBag: padding_idx must be within num_embeddings (got {p} for {numEmbeddings})");
            paddingIdx = p < 0 ? p + numEmbeddings : p;
        }
        NumEmbeddings = numEmbeddings; EmbeddingDim = embeddingDim; Mode = mode; IncludeLastOffset = includeLastOffset; PaddingIdx = paddingIdx;
        var w = RegisterParameter("weight", Parameter(Tensor.Empty(new[] { numEmbeddings, embeddingDim }, dtype)))!;
        Init.Normal_(w);
        if (paddingIdx is int pi) using (Autograd.NoGrad()) { using var row = w.Select(0, pi); row.Fill_(0); }
    }

    /// <summary>Table size.</summary>
    public int NumEmbeddings { get; }
    /// <summary>Vector size.</summary>
    public int EmbeddingDim { get; }
    /// <summary>"sum", "mean" or "max".</summary>
    public string Mode { get; }
    /// <summary>Whether the last offset closes the last bag.</summary>
    public bool IncludeLastOffset { get; }
    /// <summary>The row left out of every bag, or null.</summary>
    public int? PaddingIdx { get; }
    /// <summary>The table [num_embeddings, embedding_dim].</summary>
    public Tensor Weight => TensorMember("weight")!;

    /// <summary>Bags as the rows of a 2-D input.</summary>
    public override Tensor Forward(Tensor input) => F.EmbeddingBag(input, Weight, null, Mode, null, IncludeLastOffset, PaddingIdx);

    /// <summary>Bags of a 1-D input starting at <paramref name="offsets"/>, entries optionally weighted (mode "sum").</summary>
    public Tensor Call(Tensor input, Tensor? offsets, Tensor? perSampleWeights = null) =>
        F.EmbeddingBag(input, Weight, offsets, Mode, perSampleWeights, IncludeLastOffset, PaddingIdx);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{NumEmbeddings}, {EmbeddingDim}, mode={Mode}" + (PaddingIdx is int p ? $", padding_idx={p}" : "");
}

