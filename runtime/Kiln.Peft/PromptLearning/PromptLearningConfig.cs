using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Peft;

/// <summary>Which virtual-token method (PEFT's <c>peft_type</c>).</summary>
public enum PromptLearningType
{
    /// <summary>Learned embeddings put before the input's (<c>PROMPT_TUNING</c>).</summary>
    PromptTuning,
    /// <summary>Learned keys and values for every layer, as if a prefix had been seen (<c>PREFIX_TUNING</c>).</summary>
    PrefixTuning,
    /// <summary>Virtual-token embeddings produced by an MLP or LSTM encoder (<c>P_TUNING</c>).</summary>
    PTuning,
}

/// <summary>P-tuning's encoder (<c>encoder_reparameterization_type</c>).</summary>
public enum PromptEncoderType
{
    /// <summary>Linear, ReLU, Linear, ReLU, Linear.</summary>
    Mlp,
    /// <summary>A bidirectional LSTM, then Linear, ReLU, Linear.</summary>
    Lstm,
}

/// <summary>
/// Settings of prompt tuning, prefix tuning and P-tuning with PEFT's adapter_config.json names. The sizes
/// (<see cref="TokenDim"/>, <see cref="NumLayers"/>, <see cref="NumAttentionHeads"/>) are filled from the model when left 0.
/// </summary>
public sealed record PromptLearningConfig
{
    /// <summary>The method.</summary>
    public PromptLearningType PeftType { get; init; } = PromptLearningType.PromptTuning;
    /// <summary>Virtual tokens (<c>num_virtual_tokens</c>).</summary>
    public int NumVirtualTokens { get; init; } = 8;
    /// <summary>Width of a virtual token: the hidden size (prefix tuning: key/value heads × head size) (<c>token_dim</c>).</summary>
    public int TokenDim { get; init; }
    /// <summary>Decoder layers (<c>num_layers</c>).</summary>
    public int NumLayers { get; init; }
    /// <summary>Heads (prefix tuning: key/value heads) (<c>num_attention_heads</c>).</summary>
    public int NumAttentionHeads { get; init; }
    /// <summary>Hidden width of the reparameterisation (<c>encoder_hidden_size</c>).</summary>
    public int EncoderHiddenSize { get; init; }
    /// <summary>Prefix tuning through Linear, Tanh, Linear (<c>prefix_projection</c>).</summary>
    public bool PrefixProjection { get; init; }
    /// <summary>P-tuning's encoder.</summary>
    public PromptEncoderType EncoderReparameterizationType { get; init; } = PromptEncoderType.Mlp;
    /// <summary>P-tuning LSTM layers (<c>encoder_num_layers</c>).</summary>
    public int EncoderNumLayers { get; init; } = 2;
    /// <summary>P-tuning LSTM dropout (<c>encoder_dropout</c>).</summary>
    public double EncoderDropout { get; init; }
    /// <summary>Prompt tuning's start from these token ids' embeddings, repeated or cut to the virtual-token count (PEFT's <c>prompt_tuning_init="TEXT"</c> after tokenizing); null: random.</summary>
    public IReadOnlyList<long>? PromptTuningInitTokenIds { get; init; }
    /// <summary>The task (<c>task_type</c>); Kiln runs causal language models.</summary>
    public string TaskType { get; init; } = "CAUSAL_LM";
    /// <summary>Where the base model came from.</summary>
    public string? BaseModelNameOrPath { get; init; }
    /// <summary>Loaded for inference: the prompt is frozen.</summary>
    public bool InferenceMode { get; init; }

    internal static string TypeName(PromptLearningType t) => t switch
    {
        PromptLearningType.PrefixTuning => "PREFIX_TUNING",
        PromptLearningType.PTuning => "P_TUNING",
        _ => "PROMPT_TUNING",
    };

    /// <summary>True when adapter_config.json at <paramref name="path"/> describes a prompt-learning adapter.</summary>
    public static bool Describes(string path) =>
        File.Exists(path) && JsonNode.Parse(File.ReadAllText(path))?["peft_type"]?.GetValue<string>() is "PROMPT_TUNING" or "PREFIX_TUNING" or "P_TUNING";

    /// <summary>Reads adapter_config.json.</summary>
    public static PromptLearningConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"PromptLearningConfig: {path} not found", path);
        JsonObject o;
        try { o = JsonNode.Parse(File.ReadAllText(path))!.AsObject(); }
        catch (JsonException e) { throw new KilnException("PromptLearningConfig", $"PromptLearningConfig: {path} is not valid JSON: {e.Message}"); }
        var type = (string?)o["peft_type"] switch
        {
            "PROMPT_TUNING" => PromptLearningType.PromptTuning,
            "PREFIX_TUNING" => PromptLearningType.PrefixTuning,
            "P_TUNING" => PromptLearningType.PTuning,
            var t => throw new KilnException("PromptLearningConfig", $"PromptLearningConfig: {path} describes a {t} adapter, not prompt learning"),
        };
        int subs = (int?)o["num_transformer_submodules"] ?? 1;
        if (subs != 1) throw new KilnException("PromptLearningConfig", $"PromptLearningConfig: {path}: num_transformer_submodules={subs} (encoder-decoder models) is not supported; decoder-only models have 1");
        return new PromptLearningConfig
        {
            PeftType = type,
            NumVirtualTokens = (int?)o["num_virtual_tokens"] ?? 8,
            TokenDim = (int?)o["token_dim"] ?? 0,
            NumLayers = (int?)o["num_layers"] ?? 0,
            NumAttentionHeads = (int?)o["num_attention_heads"] ?? 0,
            EncoderHiddenSize = (int?)o["encoder_hidden_size"] ?? 0,
            PrefixProjection = (bool?)o["prefix_projection"] ?? false,
            EncoderReparameterizationType = (string?)o["encoder_reparameterization_type"] == "LSTM" ? PromptEncoderType.Lstm : PromptEncoderType.Mlp,
            EncoderNumLayers = (int?)o["encoder_num_layers"] ?? 2,
            EncoderDropout = (double?)o["encoder_dropout"] ?? 0,
            TaskType = (string?)o["task_type"] ?? "CAUSAL_LM",
            BaseModelNameOrPath = (string?)o["base_model_name_or_path"],
            InferenceMode = (bool?)o["inference_mode"] ?? false,
        };
    }

    /// <summary>Writes adapter_config.json as PEFT does (sorted keys, two-space indent).</summary>
    public void Save(string path)
    {
        var o = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["inference_mode"] = true,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_layers"] = NumLayers,
            ["num_transformer_submodules"] = 1,
            ["num_virtual_tokens"] = NumVirtualTokens,
            ["peft_type"] = TypeName(PeftType),
            ["task_type"] = TaskType,
            ["token_dim"] = TokenDim,
        };
        if (PeftType == PromptLearningType.PrefixTuning) { o["prefix_projection"] = PrefixProjection; o["encoder_hidden_size"] = EncoderHiddenSize; }
        if (PeftType == PromptLearningType.PTuning)
        {
            o["encoder_hidden_size"] = EncoderHiddenSize;
            o["encoder_reparameterization_type"] = EncoderReparameterizationType == PromptEncoderType.Lstm ? "LSTM" : "MLP";
            o["encoder_num_layers"] = EncoderNumLayers;
            o["encoder_dropout"] = EncoderDropout;
        }
        if (PeftType == PromptLearningType.PromptTuning) o["prompt_tuning_init"] = PromptTuningInitTokenIds is null ? "RANDOM" : "TEXT";
        var root = new JsonObject();
        foreach (var (k, v) in o) root[k] = v;
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
