using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Transformers;

/// <summary>BERT's <c>config.json</c> (Hugging Face's <c>BertConfig</c>): sizes, activation, positions, token types, LayerNorm eps.</summary>
public sealed record BertConfig
{
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 30522;
    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary><c>intermediate_size</c>.</summary>
    public int IntermediateSize { get; init; } = 3072;
    /// <summary><c>hidden_act</c>.</summary>
    public string HiddenAct { get; init; } = "gelu";
    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;
    /// <summary><c>type_vocab_size</c> (segment ids).</summary>
    public int TypeVocabSize { get; init; } = 2;
    /// <summary><c>layer_norm_eps</c>.</summary>
    public double LayerNormEps { get; init; } = 1e-12;

    /// <summary><c>hidden_dropout_prob</c>: dropout on the embeddings and on each residual branch while training.</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;
    /// <summary><c>attention_probs_dropout_prob</c>: dropout on the attention probabilities while training.</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary><c>initializer_range</c>: the std of a freshly built model's weights.</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Dims per head.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Reads <paramref name="path"/> (a config.json, or the folder holding it).</summary>
    public static BertConfig FromFile(string path) => ConfigJson.ReadFile(path, FromJson);

    /// <summary>Reads a parsed config (<paramref name="file"/> names it in errors).</summary>
    public static BertConfig FromJson(JsonElement e, string file)
    {
        var j = new ConfigJson(e, file);
        var c = new BertConfig
        {
            VocabSize = j.Int("vocab_size", 30522),
            HiddenSize = j.Int("hidden_size", 768),
            NumHiddenLayers = j.Int("num_hidden_layers", 12),
            NumAttentionHeads = j.Int("num_attention_heads", 12),
            IntermediateSize = j.Int("intermediate_size", 3072),
            HiddenAct = j.String("hidden_act", "gelu"),
            MaxPositionEmbeddings = j.Int("max_position_embeddings", 512),
            TypeVocabSize = j.Int("type_vocab_size", 2),
            LayerNormEps = j.Double("layer_norm_eps", 1e-12),
            InitializerRange = j.Double("initializer_range", 0.02),
            HiddenDropoutProb = j.Double("hidden_dropout_prob", 0.1),
            AttentionProbsDropoutProb = j.Double("attention_probs_dropout_prob", 0.1),
        };
        string positions = j.String("position_embedding_type", "absolute");
        if (positions != "absolute")
            throw new KilnException("config", $"{file}: position_embedding_type '{positions}' is not supported (supported: absolute)", KilnErrorKind.Unsupported);
        c.Validate(file);
        return c;
    }

    /// <summary>config.json as transformers writes it for a <c>BertModel</c> (<c>save_pretrained</c>).</summary>
    public JsonObject ToJson() => new()
    {
        ["architectures"] = new JsonArray("BertModel"),
        ["attention_probs_dropout_prob"] = AttentionProbsDropoutProb,
        ["hidden_act"] = HiddenAct,
        ["hidden_dropout_prob"] = HiddenDropoutProb,
        ["hidden_size"] = HiddenSize,
        ["initializer_range"] = InitializerRange,
        ["intermediate_size"] = IntermediateSize,
        ["layer_norm_eps"] = LayerNormEps,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["model_type"] = "bert",
        ["num_attention_heads"] = NumAttentionHeads,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["pad_token_id"] = 0,
        ["position_embedding_type"] = "absolute",
        ["type_vocab_size"] = TypeVocabSize,
        ["vocab_size"] = VocabSize,
    };

    /// <summary>
    /// Checks every size and how they fit together; <paramref name="file"/> names the config in the error: a config.json
    /// (a <paramref name="kind"/> of Format), or the config's type when a model is built from one in code (Argument).
    /// </summary>
    internal void Validate(string file, KilnErrorKind kind = KilnErrorKind.Format)
    {
        ConfigJson.RequirePositive(file, kind, ("vocab_size", VocabSize), ("hidden_size", HiddenSize), ("num_hidden_layers", NumHiddenLayers),
                     ("num_attention_heads", NumAttentionHeads), ("intermediate_size", IntermediateSize), ("max_position_embeddings", MaxPositionEmbeddings), ("type_vocab_size", TypeVocabSize));
        if (HiddenSize % NumAttentionHeads != 0)
            throw new KilnException("config", $"{file}: hidden_size ({HiddenSize}) must be a multiple of num_attention_heads ({NumAttentionHeads})", kind);
        ConfigJson.RequireProbability(file, kind, ("hidden_dropout_prob", HiddenDropoutProb), ("attention_probs_dropout_prob", AttentionProbsDropoutProb));
        Activations.Check(HiddenAct, file, "hidden_act");
    }
}
