using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Transformers;

/// <summary>
/// A Llama-family model's <c>config.json</c> (Hugging Face's <c>LlamaConfig</c>): sizes, grouped-query heads, RMSNorm eps,
/// rotary base and scaling, biases, tied embeddings, and the fields Qwen2 adds (q/k/v biases without an o_proj bias,
/// sliding-window layers; read by <see cref="Qwen2Config"/>). Read with <see cref="FromFile"/>; every size is checked.
/// </summary>
public sealed record LlamaConfig
{
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 32000;
    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; init; } = 4096;
    /// <summary><c>intermediate_size</c> (the SwiGLU MLP's inner width).</summary>
    public int IntermediateSize { get; init; } = 11008;
    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; init; } = 32;
    /// <summary><c>num_attention_heads</c> (query heads).</summary>
    public int NumAttentionHeads { get; init; } = 32;
    /// <summary><c>num_key_value_heads</c> (grouped-query attention): <see cref="NumAttentionHeads"/> when not set, as in Hugging Face's config.</summary>
    public int NumKeyValueHeads { get => _kvHeads ?? NumAttentionHeads; init => _kvHeads = value; }
    /// <summary><c>head_dim</c>: <see cref="HiddenSize"/> / <see cref="NumAttentionHeads"/> when not set, as in Hugging Face's config.</summary>
    public int HeadDim { get => _headDim ?? (NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0); init => _headDim = value; }
    int? _kvHeads, _headDim;
    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;
    /// <summary><c>rope_theta</c> (or <c>rope_parameters.rope_theta</c>).</summary>
    public double RopeTheta { get; init; } = 10000;
    /// <summary><c>rope_scaling</c> / <c>rope_parameters</c>.</summary>
    public RopeScaling RopeScaling { get; init; } = RopeScaling.Default;
    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;
    /// <summary><c>attention_bias</c>: biases on q/k/v/o projections.</summary>
    public bool AttentionBias { get; init; }
    /// <summary><c>mlp_bias</c>: biases on gate/up/down projections.</summary>
    public bool MlpBias { get; init; }
    /// <summary><c>tie_word_embeddings</c>: the output head reuses the token embedding (no <c>lm_head.weight</c>).</summary>
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Biases on q/k/v (Llama: <see cref="AttentionBias"/>; Qwen2: always).</summary>
    public bool QkvBias { get => _qkvBias ?? AttentionBias; init => _qkvBias = value; }
    bool? _qkvBias, _outputBias;
    /// <summary>A bias on o_proj (Llama: <see cref="AttentionBias"/>; Qwen2: never).</summary>
    public bool OutputBias { get => _outputBias ?? AttentionBias; init => _outputBias = value; }
    /// <summary><c>sliding_window</c>: keys further back than this many positions are not attended in sliding layers (null: none).</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Per layer, whether it attends through the sliding window (<c>layer_types</c>, or Qwen2's
    /// <c>use_sliding_window</c> from <c>max_window_layers</c> on); null: no sliding layers.</summary>
    public bool[]? SlidingLayers { get; init; }
    /// <summary><c>attention_dropout</c>: dropout on the attention probabilities while training (0 in released checkpoints).</summary>
    public double AttentionDropout { get; init; }
    /// <summary><c>initializer_range</c>: the std of a freshly built model's weights.</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary><c>model_type</c>.</summary>
    public string ModelType { get; init; } = "llama";

    /// <summary>Reads <paramref name="path"/> (a config.json, or the folder holding it).</summary>
    public static LlamaConfig FromFile(string path) => ConfigJson.ReadFile(path, FromJson);

    /// <summary>Reads a parsed config (<paramref name="file"/> names it in errors).</summary>
    public static LlamaConfig FromJson(JsonElement e, string file)
    {
        var j = new ConfigJson(e, file);
        int hidden = j.Int("hidden_size", 4096), heads = j.Int("num_attention_heads", 32);
        int kv = j.Int("num_key_value_heads", heads);
        double theta = j.Double("rope_theta", 10000);
        var scaling = RopeScaling.Default;
        if (e.TryGetProperty("rope_parameters", out var rp) && rp.ValueKind == JsonValueKind.Object)
        {
            scaling = RopeScaling.FromJson(rp, file);
            if (rp.TryGetProperty("rope_theta", out var rt) && rt.ValueKind == JsonValueKind.Number) theta = rt.GetDouble();
        }
        else if (e.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
            scaling = RopeScaling.FromJson(rs, file);
        var c = new LlamaConfig
        {
            VocabSize = j.Int("vocab_size", 32000),
            HiddenSize = hidden,
            IntermediateSize = j.Int("intermediate_size", 11008),
            NumHiddenLayers = j.Int("num_hidden_layers", 32),
            NumAttentionHeads = heads,
            NumKeyValueHeads = kv,
            HeadDim = j.Int("head_dim", heads > 0 ? hidden / heads : 0),
            RmsNormEps = j.Double("rms_norm_eps", 1e-6),
            RopeTheta = theta,
            RopeScaling = scaling,
            MaxPositionEmbeddings = j.Int("max_position_embeddings", 2048),
            AttentionBias = j.Bool("attention_bias", false),
            MlpBias = j.Bool("mlp_bias", false),
            TieWordEmbeddings = j.Bool("tie_word_embeddings", false),
            InitializerRange = j.Double("initializer_range", 0.02),
            AttentionDropout = j.Double("attention_dropout", 0.0),
            ModelType = j.String("model_type", "llama"),
        };
        c = c with { SlidingWindow = j.OptionalInt("sliding_window"), SlidingLayers = LayerTypes(e, file, c.NumHiddenLayers) };
        c.Validate(file);
        return c;
    }

    /// <summary>
    /// config.json as transformers writes it for this model (<c>save_pretrained</c>): sizes, norms, biases, tying, RoPE
    /// under <c>rope_parameters</c> (type, theta, factor and the type's own fields), sliding layers as <c>layer_types</c>.
    /// </summary>
    public JsonObject ToJson()
    {
        var rope = new JsonObject { ["rope_theta"] = RopeTheta, ["rope_type"] = RopeScaling.RopeType };
        if (RopeScaling.RopeType != "default")
        {
            rope["factor"] = RopeScaling.Factor;
            if (RopeScaling.OriginalMaxPositionEmbeddings is int original) rope["original_max_position_embeddings"] = original;
            if (RopeScaling.RopeType == "llama3") { rope["low_freq_factor"] = RopeScaling.LowFreqFactor; rope["high_freq_factor"] = RopeScaling.HighFreqFactor; }
            if (RopeScaling.RopeType == "yarn")
            {
                rope["beta_fast"] = RopeScaling.BetaFast; rope["beta_slow"] = RopeScaling.BetaSlow; rope["truncate"] = RopeScaling.Truncate;
                if (RopeScaling.AttentionFactor is double af) rope["attention_factor"] = af;
                if (RopeScaling.Mscale is double ms) rope["mscale"] = ms;
                if (RopeScaling.MscaleAllDim is double md) rope["mscale_all_dim"] = md;
            }
        }
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(ModelType == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"),
            ["attention_bias"] = AttentionBias,
            ["attention_dropout"] = AttentionDropout,
            ["head_dim"] = HeadDim,
            ["hidden_act"] = "silu",
            ["hidden_size"] = HiddenSize,
            ["initializer_range"] = InitializerRange,
            ["intermediate_size"] = IntermediateSize,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["mlp_bias"] = MlpBias,
            ["model_type"] = ModelType,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_parameters"] = rope,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["vocab_size"] = VocabSize,
        };
        if (SlidingWindow is int w) o["sliding_window"] = w;
        if (SlidingLayers is { } layers) o["layer_types"] = new JsonArray(layers.Select(x => (JsonNode?)(x ? "sliding_attention" : "full_attention")).ToArray());
        return o;
    }

    /// <summary>Which layers slide, from <c>layer_types</c> ("sliding_attention" / "full_attention"); null when absent or all full.</summary>
    internal static bool[]? LayerTypes(JsonElement e, string file, int layers)
    {
        if (!e.TryGetProperty("layer_types", out var lt) || lt.ValueKind != JsonValueKind.Array) return null;
        if (lt.GetArrayLength() != layers)
            throw new KilnException("config", $"{file}: layer_types has {lt.GetArrayLength()} entries for {layers} layers", KilnErrorKind.Format);
        var sliding = new bool[layers];
        bool any = false;
        int i = 0;
        foreach (var t in lt.EnumerateArray())
        {
            string kind = t.GetString() ?? "";
            if (kind is not ("full_attention" or "sliding_attention"))
                throw new KilnException("config", $"{file}: layer_types[{i}] is '{kind}' (expected full_attention or sliding_attention)", KilnErrorKind.Format);
            any |= sliding[i++] = kind == "sliding_attention";
        }
        return any ? sliding : null;
    }

    /// <summary>
    /// Checks every size and how they fit together; <paramref name="file"/> names the config in the error: a config.json
    /// (a <paramref name="kind"/> of Format), or the config's type when a model is built from one in code (Argument).
    /// </summary>
    internal void Validate(string file, KilnErrorKind kind = KilnErrorKind.Format)
    {
        ConfigJson.RequirePositive(file, kind, ("vocab_size", VocabSize), ("hidden_size", HiddenSize), ("intermediate_size", IntermediateSize),
                     ("num_hidden_layers", NumHiddenLayers), ("num_attention_heads", NumAttentionHeads), ("num_key_value_heads", NumKeyValueHeads), ("head_dim", HeadDim));
        ConfigJson.RequireProbability(file, kind, ("attention_dropout", AttentionDropout));
        if (NumAttentionHeads % NumKeyValueHeads != 0)
            throw new KilnException("config", $"{file}: num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})", kind);
        if (SlidingLayers is not null && SlidingWindow is not > 0)
            throw new KilnException("config", $"{file}: sliding layers need a positive sliding_window, got {SlidingWindow?.ToString() ?? "null"}", kind);
        if (HeadDim % 2 != 0) throw new KilnException("config", $"{file}: head_dim must be even for rotary embeddings, got {HeadDim}", kind);
    }
}
