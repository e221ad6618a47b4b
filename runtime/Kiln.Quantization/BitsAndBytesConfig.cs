using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kiln.Quantization;

/// <summary>
/// How to quantize a model's linear layers on load, in transformers' words (<c>BitsAndBytesConfig</c>); also read from
/// (and written to) the <c>quantization_config</c> of a saved quantized model's config.json.
/// </summary>
public sealed record BitsAndBytesConfig
{
    /// <summary>4-bit weights (<c>load_in_4bit</c>).</summary>
    public bool LoadIn4Bit { get; init; }
    /// <summary>LLM.int8 weights (<c>load_in_8bit</c>).</summary>
    public bool LoadIn8Bit { get; init; }
    /// <summary>NF4 or FP4 (<c>bnb_4bit_quant_type</c>).</summary>
    public QuantType Bnb4BitQuantType { get; init; } = QuantType.Nf4;
    /// <summary>Quantize the absmax statistics too (<c>bnb_4bit_use_double_quant</c>): about 0.127 fewer bits per parameter.</summary>
    public bool Bnb4BitUseDoubleQuant { get; init; }
    /// <summary>The output dtype of 4-bit layers (<c>bnb_4bit_compute_dtype</c>).</summary>
    public DType Bnb4BitComputeDType { get; init; } = DType.Float32;
    /// <summary>Elements per absmax block (bitsandbytes' blocksize; transformers always uses 64).</summary>
    public int Blocksize { get; init; } = 64;
    /// <summary>Module names left in full precision (<c>llm_int8_skip_modules</c>); null: the output head (<c>lm_head</c>), as transformers decides.</summary>
    public IReadOnlyList<string>? LlmInt8SkipModules { get; init; }

    /// <summary>The names kept in full precision.</summary>
    public IReadOnlyList<string> SkipModules => LlmInt8SkipModules ?? ["lm_head"];

    /// <summary>Reads a <c>quantization_config</c> object; null when it is not bitsandbytes'.</summary>
    public static BitsAndBytesConfig? FromJson(JsonElement e, string file)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        string method = e.TryGetProperty("quant_method", out var m) ? m.GetString() ?? "" : "";
        if (method != "bitsandbytes")
            throw new KilnException("from_pretrained", $"{file}: quantization_config uses quant_method '{method}'; Kiln reads bitsandbytes' (4-bit NF4/FP4 and LLM.int8)", KilnErrorKind.Unsupported);
        bool Bool(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
        string? Str(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new BitsAndBytesConfig
        {
            LoadIn4Bit = Bool("load_in_4bit") || Bool("_load_in_4bit"),
            LoadIn8Bit = Bool("load_in_8bit") || Bool("_load_in_8bit"),
            Bnb4BitQuantType = Str("bnb_4bit_quant_type") == "fp4" ? QuantType.Fp4 : QuantType.Nf4,
            Bnb4BitUseDoubleQuant = Bool("bnb_4bit_use_double_quant"),
            Bnb4BitComputeDType = Str("bnb_4bit_compute_dtype") switch { "bfloat16" => DType.BFloat16, "float16" => DType.Float16, _ => DType.Float32 },
            LlmInt8SkipModules = e.TryGetProperty("llm_int8_skip_modules", out var s) && s.ValueKind == JsonValueKind.Array
                ? s.EnumerateArray().Select(x => x.GetString()!).ToList() : null,
        };
    }

    /// <summary>The <c>quantization_config</c> object transformers writes.</summary>
    public JsonObject ToJson() => new()
    {
        ["_load_in_4bit"] = LoadIn4Bit,
        ["_load_in_8bit"] = LoadIn8Bit,
        ["bnb_4bit_compute_dtype"] = Bnb4BitComputeDType switch { DType.BFloat16 => "bfloat16", DType.Float16 => "float16", _ => "float32" },
        ["bnb_4bit_quant_storage"] = "uint8",
        ["bnb_4bit_quant_type"] = Quantized4Bit.TypeName(Bnb4BitQuantType),
        ["bnb_4bit_use_double_quant"] = Bnb4BitUseDoubleQuant,
        ["llm_int8_enable_fp32_cpu_offload"] = false,
        ["llm_int8_has_fp16_weight"] = false,
        ["llm_int8_skip_modules"] = LlmInt8SkipModules is null ? null : new JsonArray(LlmInt8SkipModules.Select(x => (JsonNode?)x).ToArray()),
        ["llm_int8_threshold"] = 6.0,
        ["load_in_4bit"] = LoadIn4Bit,
        ["load_in_8bit"] = LoadIn8Bit,
        ["quant_method"] = "bitsandbytes",
    };

    /// <summary>Checks the settings make sense together.</summary>
    public void Validate()
    {
        if (LoadIn4Bit == LoadIn8Bit)
            throw new KilnException("BitsAndBytesConfig", $"BitsAndBytesConfig: set exactly one of load_in_4bit and load_in_8bit (got {LoadIn4Bit} and {LoadIn8Bit})");
        Blockwise.CheckBlocksize("BitsAndBytesConfig", Blocksize);
    }

    /// <summary>True when the module at dotted <paramref name="path"/> stays in full precision.</summary>
    public bool Skips(string path) =>
        SkipModules.Any(s => path == s || path.EndsWith("." + s, StringComparison.Ordinal) || path.StartsWith(s + ".", StringComparison.Ordinal));
}
