using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kiln.Peft;

/// <summary>
/// A LoRA adapter's settings, with PEFT's <c>LoraConfig</c> fields and their adapter_config.json names: which modules
/// get low-rank updates (<see cref="TargetModules"/> names or a <see cref="TargetModulesRegex"/>, optionally only in
/// <see cref="LayersToTransform"/>), their rank and scale (<see cref="R"/>, <see cref="LoraAlpha"/>, rsLoRA, per-module
/// <see cref="RankPattern"/>/<see cref="AlphaPattern"/>), dropout, init, which biases and whole modules train.
/// </summary>
public sealed record LoraConfig
{
    /// <summary>Rank of the update (<c>r</c>).</summary>
    public int R { get; init; } = 8;
    /// <summary>Scale numerator (<c>lora_alpha</c>): the update is scaled by alpha / r (alpha / √r with <see cref="UseRslora"/>).</summary>
    public double LoraAlpha { get; init; } = 8;
    /// <summary>Dropout on the adapter's input while training (<c>lora_dropout</c>).</summary>
    public double LoraDropout { get; init; }
    /// <summary>Module names to adapt (<c>target_modules</c> as a list): a module matches when its dotted path equals a name or ends with "." + name.</summary>
    public IReadOnlyList<string>? TargetModules { get; init; }
    /// <summary><c>target_modules</c> as a string: a regular expression the whole dotted path must match.</summary>
    public string? TargetModulesRegex { get; init; }
    /// <summary>Only layers with these indices (<c>layers_to_transform</c>), the index read after <see cref="LayersPattern"/> (or any name) in the path.</summary>
    public IReadOnlyList<int>? LayersToTransform { get; init; }
    /// <summary>The container name before the layer index (<c>layers_pattern</c>, e.g. "layers" or "h").</summary>
    public IReadOnlyList<string>? LayersPattern { get; init; }
    /// <summary>Per-module ranks (<c>rank_pattern</c>): a key is a regex matched against the path's end.</summary>
    public IReadOnlyDictionary<string, int> RankPattern { get; init; } = new Dictionary<string, int>();
    /// <summary>Per-module alphas (<c>alpha_pattern</c>), matched like <see cref="RankPattern"/>.</summary>
    public IReadOnlyDictionary<string, double> AlphaPattern { get; init; } = new Dictionary<string, double>();
    /// <summary>Which biases train (<c>bias</c>).</summary>
    public LoraBias Bias { get; init; } = LoraBias.None;
    /// <summary>Modules trained whole and saved with the adapter (<c>modules_to_save</c>, e.g. a classifier head).</summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }
    /// <summary>The base weight is stored [in, out] (<c>fan_in_fan_out</c>; GPT-2's Conv1D sets it).</summary>
    public bool FanInFanOut { get; init; }
    /// <summary>Rank-stabilised LoRA: scale by alpha / √r (<c>use_rslora</c>).</summary>
    public bool UseRslora { get; init; }
    /// <summary>How the matrices start (<c>init_lora_weights</c>).</summary>
    public LoraInit InitLoraWeights { get; init; } = LoraInit.Default;
    /// <summary>The task (<c>task_type</c>, e.g. "CAUSAL_LM"), informational.</summary>
    public string? TaskType { get; init; }
    /// <summary>Where the base model came from (<c>base_model_name_or_path</c>).</summary>
    public string? BaseModelNameOrPath { get; init; }
    /// <summary>Loaded for inference only: the adapter is frozen (<c>inference_mode</c>).</summary>
    public bool InferenceMode { get; init; }

    /// <summary>The rank for the module at <paramref name="path"/>, after <see cref="RankPattern"/>.</summary>
    public int RankFor(string path) => PatternValue(RankPattern, path, R);

    /// <summary>The alpha for the module at <paramref name="path"/>, after <see cref="AlphaPattern"/>.</summary>
    public double AlphaFor(string path) => PatternValue(AlphaPattern, path, LoraAlpha);

    static T PatternValue<T>(IReadOnlyDictionary<string, T> patterns, string path, T fallback)
    {
        foreach (var (key, value) in patterns)
            if (key == path || Regex.IsMatch(path, $"^(.*\\.)?({key})$", RegexOptions.CultureInvariant)) return value;
        return fallback;
    }

    /// <summary>True when the module at <paramref name="path"/> is one this config adapts (PEFT's <c>check_target_module_exists</c>).</summary>
    public bool IsTarget(string path)
    {
        if (TargetModulesRegex is { } regex) return Regex.IsMatch(path, $"^(?:{regex})$", RegexOptions.CultureInvariant);
        if (TargetModules is null) return false;
        bool found = false;
        foreach (var t in TargetModules)
            if (path == t) return true;
            else if (path.EndsWith("." + t, StringComparison.Ordinal)) found = true;
        if (!found || LayersToTransform is not { Count: > 0 } layers) return found;
        Match m = Match.Empty;
        if (LayersPattern is not { Count: > 0 }) m = Regex.Match(path, @"^.*\.[^.]*\.(\d+)\.");
        else foreach (var p in LayersPattern) if ((m = Regex.Match(path, $"^.*\\.{p}\\.(\\d+)\\.")).Success) break;
        return m.Success && layers.Contains(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>Reads adapter_config.json (PEFT's file; unknown fields are ignored).</summary>
    public static LoraConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"LoraConfig: {path} not found", path);
        JsonObject o;
        try { o = JsonNode.Parse(File.ReadAllText(path))!.AsObject(); }
        catch (JsonException e) { throw new KilnException("LoraConfig", $"LoraConfig: {path} is not valid JSON: {e.Message}"); }
        string type = (string?)o["peft_type"] ?? "LORA";
        if (type != "LORA") throw new KilnException("LoraConfig", $"LoraConfig: {path} describes a {type} adapter, not LORA");
        var targets = o["target_modules"];
        return new LoraConfig
        {
            R = (int?)o["r"] ?? 8,
            LoraAlpha = (double?)o["lora_alpha"] ?? 8,
            LoraDropout = (double?)o["lora_dropout"] ?? 0,
            TargetModules = targets is JsonArray a ? a.Select(x => (string)x!).ToList() : null,
            TargetModulesRegex = targets is JsonValue v ? (string?)v : null,
            LayersToTransform = o["layers_to_transform"] switch { JsonArray l => l.Select(x => (int)x!).ToList(), JsonValue one => [(int)one], _ => null },
            LayersPattern = o["layers_pattern"] switch { JsonArray l => l.Select(x => (string)x!).ToList(), JsonValue one => [(string)one!], _ => null },
            RankPattern = (o["rank_pattern"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => (int)kv.Value!) ?? new(),
            AlphaPattern = (o["alpha_pattern"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => (double)kv.Value!) ?? new(),
            Bias = (string?)o["bias"] switch { "all" => LoraBias.All, "lora_only" => LoraBias.LoraOnly, _ => LoraBias.None },
            ModulesToSave = (o["modules_to_save"] as JsonArray)?.Select(x => (string)x!).ToList(),
            FanInFanOut = (bool?)o["fan_in_fan_out"] ?? false,
            UseRslora = (bool?)o["use_rslora"] ?? false,
            InitLoraWeights = o["init_lora_weights"] switch
            {
                JsonValue iv when iv.TryGetValue<bool>(out var b) => b ? LoraInit.Default : LoraInit.Random,
                JsonValue iv when (string?)iv == "gaussian" => LoraInit.Gaussian,
                _ => LoraInit.Default,
            },
            TaskType = (string?)o["task_type"],
            BaseModelNameOrPath = (string?)o["base_model_name_or_path"],
            InferenceMode = (bool?)o["inference_mode"] ?? false,
        };
    }

    /// <summary>Writes adapter_config.json as PEFT does (sorted keys, two-space indent; saved adapters are marked inference_mode).</summary>
    public void Save(string path)
    {
        var o = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = Obj(AlphaPattern.ToDictionary(kv => kv.Key, kv => (JsonNode?)Number(kv.Value))),
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["bias"] = Bias switch { LoraBias.All => "all", LoraBias.LoraOnly => "lora_only", _ => "none" },
            ["fan_in_fan_out"] = FanInFanOut,
            ["inference_mode"] = true,
            ["init_lora_weights"] = InitLoraWeights switch { LoraInit.Gaussian => JsonValue.Create("gaussian"), LoraInit.Random => JsonValue.Create(false), _ => JsonValue.Create(true) },
            ["layers_pattern"] = LayersPattern is null ? null : new JsonArray(LayersPattern.Select(x => (JsonNode?)x).ToArray()),
            ["layers_to_transform"] = LayersToTransform is null ? null : new JsonArray(LayersToTransform.Select(x => (JsonNode?)x).ToArray()),
            ["lora_alpha"] = Number(LoraAlpha),
            ["lora_dropout"] = LoraDropout,
            ["modules_to_save"] = ModulesToSave is null ? null : new JsonArray(ModulesToSave.Select(x => (JsonNode?)x).ToArray()),
            ["peft_type"] = "LORA",
            ["r"] = R,
            ["rank_pattern"] = Obj(RankPattern.ToDictionary(kv => kv.Key, kv => (JsonNode?)kv.Value)),
            ["target_modules"] = TargetModulesRegex is { } rx ? JsonValue.Create(rx) : TargetModules is null ? null : new JsonArray(TargetModules.Select(x => (JsonNode?)x).ToArray()),
            ["task_type"] = TaskType,
            ["use_dora"] = false,
            ["use_rslora"] = UseRslora,
        };
        var root = new JsonObject();
        foreach (var (k, v) in o) root[k] = v;
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        static JsonObject Obj(Dictionary<string, JsonNode?> d) { var j = new JsonObject(); foreach (var (k, v) in d) j[k] = v; return j; }
    }

    // PEFT writes integral alphas as ints (json of a Python int).
    static JsonNode Number(double v) => v == Math.Floor(v) && Math.Abs(v) < 1e15 ? JsonValue.Create((long)v) : JsonValue.Create(v);
}
