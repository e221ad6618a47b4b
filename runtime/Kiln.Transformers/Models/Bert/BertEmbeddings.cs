using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>BERT's embeddings: LayerNorm(word + position + token type), then dropout while training; Hugging Face's names.</summary>
public sealed class BertEmbeddings : Module
{
    /// <summary>Tables of <paramref name="config"/>'s sizes.</summary>
    public BertEmbeddings(BertConfig config)
    {
        RegisterModule("word_embeddings", new Embedding(config.VocabSize, config.HiddenSize));
        RegisterModule("position_embeddings", new Embedding(config.MaxPositionEmbeddings, config.HiddenSize));
        RegisterModule("token_type_embeddings", new Embedding(config.TypeVocabSize, config.HiddenSize));
        LayerNorm = RegisterModule("LayerNorm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
        Dropout = RegisterModule("dropout", new Dropout(config.HiddenDropoutProb));
    }

    /// <summary>Token vectors.</summary>
    public Embedding WordEmbeddings => Child<Embedding>("word_embeddings");
    /// <summary>Learned position vectors.</summary>
    public Embedding PositionEmbeddings => Child<Embedding>("position_embeddings");
    /// <summary>Segment vectors.</summary>
    public Embedding TokenTypeEmbeddings => Child<Embedding>("token_type_embeddings");
    /// <summary>The norm over their sum.</summary>
    public LayerNorm LayerNorm { get; }
    /// <summary>Dropout after the norm (<c>hidden_dropout_prob</c>) while training.</summary>
    public Dropout Dropout { get; }

    /// <summary>[batch, length, hidden] for ids and segment ids [batch, length] (segments 0 when null), positions 0..length-1.</summary>
    public Tensor Forward(Tensor inputIds, Tensor? tokenTypeIds)
    {
        int b = inputIds.Size(0), s = inputIds.Size(1);
        if (s > PositionEmbeddings.NumEmbeddings)
            throw new KilnException("BertModel", $"BertModel: {s} tokens exceed max_position_embeddings {PositionEmbeddings.NumEmbeddings}", KilnErrorKind.Index);
        using var positions = Tensor.Arange(0, s).View(1, s).To(inputIds.Device);
        using var types = tokenTypeIds is null ? Tensor.Zeros([b, s], DType.Int64, inputIds.Device) : null;
        return Dropout.Forward(LayerNorm.Forward(WordEmbeddings.Forward(inputIds) + PositionEmbeddings.Forward(positions) + TokenTypeEmbeddings.Forward(tokenTypeIds ?? types!)));
    }
}
