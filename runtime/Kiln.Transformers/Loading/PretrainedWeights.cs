using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.IO;
using Kiln.NN;
using Kiln.Quantization;

namespace Kiln.Transformers;

/// <summary>
/// A Hugging Face model folder's weights: <c>model.safetensors</c>, or the shards named by
/// <c>model.safetensors.index.json</c>, loaded into a module by Hugging Face's key names.
/// </summary>
public static class PretrainedWeights
{
    /// <summary>The single-file weights' name.</summary>
    public const string SingleFile = "model.safetensors";
    /// <summary>The sharded weights' index name.</summary>
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>
    /// What every <c>Auto*.FromPretrained</c> does: read config.json, build the class <paramref name="create"/> gives for
    /// its <c>model_type</c> (null: not supported, named with <paramref name="supported"/>), cast to <paramref name="dtype"/>,
    /// load the weights (a base model also from a checkpoint with a head), move to <paramref name="device"/>, eval mode.
    /// </summary>
    internal static Module Build(string directory, DType dtype, Device? device, string loader, string[] supported, bool asBaseModel,
        Func<string, JsonElement, string, Module?> create, BitsAndBytesConfig? quantization = null)
    {
        string file = Path.Combine(directory, "config.json");
        if (!File.Exists(file)) throw new FileNotFoundException($"{directory}: no config.json", file);
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        string type = new ConfigJson(doc.RootElement, file).String("model_type", "");
        // A quantized checkpoint says so in config.json; its own settings win over the caller's, as in transformers.
        var stored = doc.RootElement.TryGetProperty("quantization_config", out var qc) ? BitsAndBytesConfig.FromJson(qc, file) : null;
        var quant = stored ?? quantization;
        Module? model;
        // Every weight is about to be loaded: no random init, and (quantizing) no memory touched for weights replaced.
        using (Init.SkipInit()) model = create(type, doc.RootElement, file);
        if (model is null)
            throw new KilnException("from_pretrained", $"{file}: model_type '{type}' is not supported{loader} (supported: {string.Join(", ", supported)})", KilnErrorKind.Unsupported);
        if (quant is not null)
        {
            QuantizedLoading.Load(model, directory, quant, preQuantized: stored is not null);
            if (dtype != DType.Float32) model.To(dtype);
        }
        else
        {
            if (dtype != DType.Float32) model.To(dtype);
            LoadInto(model, directory, asBaseModel ? type : null);
        }
        if (device is { } d) model.To(d);
        model.Eval();
        return model;
    }

    /// <summary>
    /// Writes <paramref name="model"/> as a Hugging Face folder (<c>save_pretrained</c>): <paramref name="config"/> as
    /// config.json and the state dict as model.safetensors. Quantized linear layers are written in bitsandbytes' layout
    /// (<c>weight</c> + <c>weight.absmax</c>, <c>weight.quant_map</c>, …, or <c>weight</c> + <c>SCB</c> + <c>weight_format</c>)
    /// and config.json gains the matching <c>quantization_config</c>, so transformers (and Kiln) load it pre-quantized.
    /// <paramref name="generation"/>, when given, is written as generation_config.json. Every file is written to a
    /// temporary name first: a failure leaves no half-written folder.
    /// </summary>
    public static void Save(Module model, System.Text.Json.Nodes.JsonObject config, string directory, System.Text.Json.Nodes.JsonObject? generation = null)
    {
        Directory.CreateDirectory(directory);
        var quantized = new Dictionary<string, Module>();
        foreach (var (path, m) in model.NamedModules())
            if (m is Linear4bit or Linear8bitLt) quantized[path] = m;
        var tensors = new OrderedDictionary<string, Tensor>();
        foreach (var (k, v) in model.StateDict())
        {
            int dot = k.LastIndexOf('.');
            if (dot > 0 && quantized.ContainsKey(k[..dot]) && k[(dot + 1)..] != "bias") continue;   // written below, bitsandbytes' way
            tensors[k] = v;
        }
        BitsAndBytesConfig? quant = null;
        foreach (var (path, m) in quantized)
        {
            if (m is Linear4bit q4)
            {
                foreach (var kv in q4.Quantized.ToStateDict(path + ".weight")) tensors[kv.Key] = kv.Value;
                quant ??= new BitsAndBytesConfig { LoadIn4Bit = true, Bnb4BitQuantType = q4.Quantized.Type, Bnb4BitUseDoubleQuant = q4.Quantized.DoubleQuant, Bnb4BitComputeDType = q4.ComputeDType, Blocksize = q4.Quantized.Blocksize };
            }
            else if (m is Linear8bitLt q8)
            {
                foreach (var kv in q8.Quantized.ToStateDict(path + ".weight")) tensors[kv.Key] = kv.Value;
                quant ??= new BitsAndBytesConfig { LoadIn8Bit = true };
            }
        }
        var json = (System.Text.Json.Nodes.JsonObject)config.DeepClone();
        if (quant is not null) json["quantization_config"] = quant.ToJson();
        json["dtype"] = DTypeName(tensors.Values.FirstOrDefault(t => t.DType.IsFloatingPoint())?.DType ?? DType.Float32);
        string weights = Path.Combine(directory, SingleFile), cfg = Path.Combine(directory, "config.json"), gen = Path.Combine(directory, "generation_config.json");
        var indented = new JsonSerializerOptions { WriteIndented = true };
        SafeTensors.Save(weights + ".tmp", tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(cfg + ".tmp", json.ToJsonString(indented));
        if (generation is not null) File.WriteAllText(gen + ".tmp", generation.ToJsonString(indented));
        File.Move(weights + ".tmp", weights, true);
        File.Move(cfg + ".tmp", cfg, true);
        if (generation is not null) File.Move(gen + ".tmp", gen, true);

        static string DTypeName(DType d) => d switch { DType.BFloat16 => "bfloat16", DType.Float16 => "float16", _ => "float32" };
    }

    /// <summary>The folder's safetensors files: the single file, or each shard its index names, in order.</summary>
    public static IReadOnlyList<string> WeightFiles(string directory)
    {
        string single = Path.Combine(directory, SingleFile), index = Path.Combine(directory, IndexFile);
        if (File.Exists(single)) return [single];
        if (!File.Exists(index)) throw new FileNotFoundException($"{directory}: no weights found (looked for {SingleFile} and {IndexFile})", single);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(index));
        if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(index, 0, "index has no weight_map object");
        var files = new List<string>();
        foreach (var e in map.EnumerateObject())
        {
            string name = e.Value.GetString() ?? "";
            if (name.Length == 0 || name != Path.GetFileName(name)) throw new SafeTensorsFormatException(index, 0, $"weight_map entry '{e.Name}' names '{name}', not a file beside the index");
            string path = Path.Combine(directory, name);
            if (!files.Contains(path)) files.Add(path);
        }
        return files;
    }

    /// <summary>Every tensor of the folder's weights, by name.</summary>
    public static OrderedDictionary<string, Tensor> Read(string directory)
    {
        string single = Path.Combine(directory, SingleFile), index = Path.Combine(directory, IndexFile);
        if (File.Exists(single)) return SafeTensors.Load(single);
        if (File.Exists(index)) return SafeTensors.LoadSharded(index);
        throw new FileNotFoundException($"{directory}: no weights found (looked for {SingleFile} and {IndexFile})", single);
    }

    /// <summary>
    /// Copies the folder's weights into <paramref name="model"/> (each cast to its parameter's dtype). Every key is checked
    /// first: a missing or unexpected key, or a shape that differs, is a <see cref="KilnException"/> naming the folder and
    /// listing them all, and nothing is written.
    /// </summary>
    /// <param name="model">The module to fill.</param>
    /// <param name="directory">The folder.</param>
    /// <param name="basePrefix">For a base model (<c>bert</c>): a checkpoint of a model with a head stores the base under
    /// this prefix (<c>bert.</c>); those keys are taken without it and the head's keys are left out, as HF loads them.</param>
    public static void LoadInto(Module model, string directory, string? basePrefix = null)
    {
        var weights = Read(directory);
        if (basePrefix is not null) weights = StripBasePrefix(weights, basePrefix + ".");
        try { model.LoadStateDict(weights, strict: true); }
        catch (KilnException e) { throw new KilnException("from_pretrained", $"from_pretrained: {directory}: {e.Message}", e.Kind); }
        finally { foreach (var t in weights.Values) t.Dispose(); }
    }

    static OrderedDictionary<string, Tensor> StripBasePrefix(OrderedDictionary<string, Tensor> weights, string prefix)
    {
        bool prefixed = false;
        foreach (var k in weights.Keys) prefixed |= k.StartsWith(prefix, System.StringComparison.Ordinal);
        if (!prefixed) return weights;
        var stripped = new OrderedDictionary<string, Tensor>();
        foreach (var (k, v) in weights)
        {
            if (k.StartsWith(prefix, System.StringComparison.Ordinal)) stripped[k[prefix.Length..]] = v;
            else v.Dispose();   // the head (cls.*, lm_head, ...) of a checkpoint with one
        }
        return stripped;
    }
}
