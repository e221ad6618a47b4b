using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Transformers;

/// <summary>
/// How <see cref="TextGeneration.Generate"/> picks tokens (Hugging Face's <c>GenerationConfig</c>, its defaults): greedy
/// unless <see cref="DoSample"/>; sampling through temperature, top-k, top-p and min-p in that order; a repetition
/// penalty; end-of-sequence tokens; a seed for reproducible sampling. A loaded model carries its folder's
/// generation_config.json as <see cref="ICausalLM.GenerationConfig"/>: <c>Generate</c> without a config uses it, and a
/// config that leaves <see cref="EosTokenIds"/> or <see cref="PadTokenId"/> unset takes the model's, as
/// <c>generate(**kwargs)</c> updates the model's generation config. <c>model.GenerationConfig with { ... }</c> changes
/// some fields and keeps the rest.
/// </summary>
public sealed record GenerationConfig
{
    /// <summary>Tokens generated at most per row (<c>max_new_tokens</c>).</summary>
    public int MaxNewTokens { get; init; } = 20;
    /// <summary>
    /// Prompt plus generated tokens at most per row (<c>max_length</c>), or null. Where both bounds are set the tighter one
    /// stops the row; as in transformers at least one token is generated even when the prompt already reaches it. A
    /// generation_config.json that names <c>max_length</c> without <c>max_new_tokens</c> is bounded by it alone.
    /// </summary>
    public int? MaxLength { get; init; }
    /// <summary>Sample from the distribution instead of taking the most likely token (<c>do_sample</c>).</summary>
    public bool DoSample { get; init; }
    /// <summary>Logits divided by this before sampling (<c>temperature</c>).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Keep only the k most likely tokens when sampling; 0 turns it off (<c>top_k</c>).</summary>
    public int TopK { get; init; } = 50;
    /// <summary>Keep the smallest set of most likely tokens whose probability reaches this (<c>top_p</c>); 1 turns it off.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Drop tokens less likely than this fraction of the most likely one (<c>min_p</c>); null turns it off.</summary>
    public double? MinP { get; init; }
    /// <summary>Above 1, makes tokens already in the row less likely (<c>repetition_penalty</c>, CTRL's rule).</summary>
    public double RepetitionPenalty { get; init; } = 1.0;
    /// <summary>
    /// Tokens that end a row (<c>eos_token_id</c>); a finished row is filled with <see cref="PadTokenId"/>. Null: the
    /// model's (its generation_config.json or config.json); empty: none.
    /// </summary>
    public IReadOnlyList<long>? EosTokenIds { get; init; }
    /// <summary>Texts that end a row once generated (<c>stop_strings</c>; the row keeps the string); needs the tokenizer.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>The filler after a row ends (<c>pad_token_id</c>). Null: the model's, else the first EOS token, else 0.</summary>
    public long? PadTokenId { get; init; }
    /// <summary>The sampling seed (the default generator when null).</summary>
    public ulong? Seed { get; init; }

    /// <summary>
    /// This config with what it leaves unset taken from <paramref name="model"/>'s (<see cref="EosTokenIds"/>,
    /// <see cref="PadTokenId"/>), both then set.
    /// </summary>
    internal GenerationConfig For(ICausalLM model)
    {
        var eos = EosTokenIds ?? model.GenerationConfig.EosTokenIds ?? [];
        long pad = PadTokenId ?? model.GenerationConfig.PadTokenId ?? (eos.Count > 0 ? eos[0] : 0);
        return this with { EosTokenIds = eos, PadTokenId = pad };
    }

    /// <summary>New tokens a row of <paramref name="promptLength"/> tokens may get under both bounds.</summary>
    internal int NewTokensFor(int promptLength) =>
        MaxLength is { } total ? Math.Min(MaxNewTokens, Math.Max(1, total - promptLength)) : MaxNewTokens;

    /// <summary>
    /// The generation defaults of a Hugging Face folder (<c>GenerationConfig.from_pretrained</c>): its
    /// generation_config.json (sampling settings, EOS and pad tokens), else the token ids of its config.json; HF's
    /// defaults for what neither names. A field of the wrong kind is an error naming the file.
    /// </summary>
    public static GenerationConfig FromPretrained(string directory)
    {
        string generation = Path.Combine(directory, "generation_config.json");
        if (File.Exists(generation)) return ConfigJson.ReadFile(generation, Read);
        return ConfigJson.ReadFile(directory, Read);
    }

    static GenerationConfig Read(JsonElement e, string file)
    {
        var j = new ConfigJson(e, file);
        var defaults = new GenerationConfig();
        int? maxLength = j.OptionalInt("max_length");
        var c = new GenerationConfig
        {
            // max_length alone bounds the row by itself, as in transformers (max_new_tokens never exceeds it then).
            MaxNewTokens = j.Int("max_new_tokens", maxLength ?? defaults.MaxNewTokens),
            MaxLength = maxLength,
            DoSample = j.Bool("do_sample", defaults.DoSample),
            Temperature = j.Double("temperature", defaults.Temperature),
            TopK = j.Int("top_k", defaults.TopK),
            TopP = j.Double("top_p", defaults.TopP),
            MinP = j.OptionalDouble("min_p"),
            RepetitionPenalty = j.Double("repetition_penalty", defaults.RepetitionPenalty),
            EosTokenIds = TokenIds(e, file, "eos_token_id"),
            PadTokenId = j.OptionalInt("pad_token_id"),
        };
        c.Validate(file);
        return c;
    }

    /// <summary>A token id field that holds one id or a list of them (<c>eos_token_id</c>); null when absent.</summary>
    static IReadOnlyList<long>? TokenIds(JsonElement e, string file, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long one)) return [one];
        if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out _)))
            return v.EnumerateArray().Select(x => x.GetInt64()).ToArray();
        throw new KilnException("config", $"{file}: {name} should be a token id or a list of them, got {v.GetRawText()}", KilnErrorKind.Format);
    }

    /// <summary>generation_config.json as transformers writes it (the fields this config has; unset token ids left out).</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["do_sample"] = DoSample,
            ["max_new_tokens"] = MaxNewTokens,
            ["repetition_penalty"] = RepetitionPenalty,
            ["temperature"] = Temperature,
            ["top_k"] = TopK,
            ["top_p"] = TopP,
        };
        if (MaxLength is { } maxLength) o["max_length"] = maxLength;
        if (MinP is { } minP) o["min_p"] = minP;
        if (EosTokenIds is { } eos) o["eos_token_id"] = eos.Count == 1 ? eos[0] : new JsonArray(eos.Select(x => (JsonNode?)x).ToArray());
        if (PadTokenId is { } pad) o["pad_token_id"] = pad;
        return o;
    }

    internal void Validate(string where = "generate")
    {
        if (MaxNewTokens < 0) throw new KilnException("generate", $"{where}: max_new_tokens must be non-negative, got {MaxNewTokens}", KilnErrorKind.Argument);
        if (MaxLength is <= 0) throw new KilnException("generate", $"{where}: max_length must be positive, got {MaxLength}", KilnErrorKind.Argument);
        if (!(Temperature > 0)) throw new KilnException("generate", $"{where}: temperature must be positive, got {Temperature}", KilnErrorKind.Argument);
        if (TopK < 0) throw new KilnException("generate", $"{where}: top_k must be non-negative, got {TopK}", KilnErrorKind.Argument);
        if (!(TopP > 0 && TopP <= 1)) throw new KilnException("generate", $"{where}: top_p must be in (0, 1], got {TopP}", KilnErrorKind.Argument);
        if (MinP is { } m && !(m >= 0 && m <= 1)) throw new KilnException("generate", $"{where}: min_p must be in [0, 1], got {m}", KilnErrorKind.Argument);
        if (!(RepetitionPenalty > 0)) throw new KilnException("generate", $"{where}: repetition_penalty must be positive, got {RepetitionPenalty}", KilnErrorKind.Argument);
    }
}
