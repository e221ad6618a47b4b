using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Transformers;

/// <summary>
/// GPT-2's <c>config.json</c> (Hugging Face's <c>GPT2Config</c>): <c>n_embd</c>, <c>n_layer</c>, <c>n_head</c>,
/// <c>n_positions</c>, <c>n_inner</c> (4·n_embd when null), <c>layer_norm_epsilon</c>, <c>activation_function</c>
/// (gelu_new, gelu, relu, silu), attention scaling flags, tied embeddings.
/// </summary>
public sealed record GPT2Config
{
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 50257;
    /// <summary><c>n_embd</c>.</summary>
    public int NEmbd { get; init; } = 768;
    /// <summary><c>n_layer</c>.</summary>
    public int NLayer { get; init; } = 12;
    /// <summary><c>n_head</c>.</summary>
    public int NHead { get; init; } = 12;
    /// <summary><c>n_positions</c> (learned position embeddings).</summary>
    public int NPositions { get; init; } = 1024;
    /// <summary><c>n_inner</c>: the MLP's width.</summary>
    public int NInner { get; init; } = 3072;
    /// <summary><c>layer_norm_epsilon</c>.</summary>
    public double LayerNormEpsilon { get; init; } = 1e-5;
    /// <summary><c>activation_function</c>.</summary>
    public string ActivationFunction { get; init; } = "gelu_new";
    /// <summary><c>scale_attn_weights</c>: scores divided by √head_dim.</summary>
    public bool ScaleAttnWeights { get; init; } = true;
    /// <summary><c>scale_attn_by_inverse_layer_idx</c>: scores further divided by the layer's index + 1.</summary>
    public bool ScaleAttnByInverseLayerIdx { get; init; }
    /// <summary><c>tie_word_embeddings</c> (true for GPT-2: the head is the token embedding).</summary>
    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary><c>resid_pdrop</c>: dropout on each attention and MLP output while training.</summary>
    public double ResidPdrop { get; init; } = 0.1;
    /// <summary><c>embd_pdrop</c>: dropout on the summed token and position embeddings while training.</summary>
    public double EmbdPdrop { get; init; } = 0.1;
    /// <summary><c>attn_pdrop</c>: dropout on the attention probabilities while training.</summary>
    public double AttnPdrop { get; init; } = 0.1;

    /// <summary><c>initializer_range</c>: the std of a freshly built model's weights.</summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Dims per head.</summary>
    public int HeadDim => NEmbd / NHead;

    /// <summary>Reads <paramref name="path"/> (a config.json, or the folder holding it).</summary>
    public static GPT2Config FromFile(string path) => ConfigJson.ReadFile(path, FromJson);

    /// <summary>Reads a parsed config (<paramref name="file"/> names it in errors).</summary>
    public static GPT2Config FromJson(JsonElement e, string file)
    {
        var j = new ConfigJson(e, file);
        int embd = j.Int("n_embd", 768);
        var c = new GPT2Config
        {
            VocabSize = j.Int("vocab_size", 50257),
            NEmbd = embd,
            NLayer = j.Int("n_layer", 12),
            NHead = j.Int("n_head", 12),
            NPositions = j.Int("n_positions", 1024),
            NInner = j.Int("n_inner", 4 * embd),
            LayerNormEpsilon = j.Double("layer_norm_epsilon", 1e-5),
            ActivationFunction = j.String("activation_function", "gelu_new"),
            ScaleAttnWeights = j.Bool("scale_attn_weights", true),
            ScaleAttnByInverseLayerIdx = j.Bool("scale_attn_by_inverse_layer_idx", false),
            TieWordEmbeddings = j.Bool("tie_word_embeddings", true),
            InitializerRange = j.Double("initializer_range", 0.02),
            ResidPdrop = j.Double("resid_pdrop", 0.1),
            EmbdPdrop = j.Double("embd_pdrop", 0.1),
            AttnPdrop = j.Double("attn_pdrop", 0.1),
        };
        c.Validate(file);
        return c;
    }

    /// <summary>config.json as transformers writes it for this model (<c>save_pretrained</c>).</summary>
    public JsonObject ToJson() => new()
    {
        ["activation_function"] = ActivationFunction,
        ["architectures"] = new JsonArray("GPT2LMHeadModel"),
        ["attn_pdrop"] = AttnPdrop,
        ["embd_pdrop"] = EmbdPdrop,
        ["initializer_range"] = InitializerRange,
        ["layer_norm_epsilon"] = LayerNormEpsilon,
        ["model_type"] = "gpt2",
        ["n_embd"] = NEmbd,
        ["n_head"] = NHead,
        ["n_inner"] = NInner,
        ["n_layer"] = NLayer,
        ["n_positions"] = NPositions,
        ["resid_pdrop"] = ResidPdrop,
        ["scale_attn_by_inverse_layer_idx"] = ScaleAttnByInverseLayerIdx,
        ["scale_attn_weights"] = ScaleAttnWeights,
        ["tie_word_embeddings"] = TieWordEmbeddings,
        ["vocab_size"] = VocabSize,
    };

    /// <summary>
    /// Checks every size and how they fit together; <paramref name="file"/> names the config in the error: a config.json
    /// (a <paramref name="kind"/> of Format), or the config's type when a model is built from one in code (Argument).
    /// </summary>
    internal void Validate(string file, KilnErrorKind kind = KilnErrorKind.Format)
    {
        ConfigJson.RequirePositive(file, kind, ("vocab_size", VocabSize), ("n_embd", NEmbd), ("n_layer", NLayer), ("n_head", NHead), ("n_positions", NPositions), ("n_inner", NInner));
        if (NEmbd % NHead != 0)
            throw new KilnException("config", $"{file}: n_embd ({NEmbd}) must be a multiple of n_head ({NHead})", kind);
        ConfigJson.RequireProbability(file, kind, ("resid_pdrop", ResidPdrop), ("embd_pdrop", EmbdPdrop), ("attn_pdrop", AttnPdrop));
        Activations.Check(ActivationFunction, file, "activation_function");
    }
}
