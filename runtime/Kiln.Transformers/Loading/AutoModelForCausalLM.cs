using System.IO;
using System.Text.Json;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>Builds the causal language model a Hugging Face folder describes (<c>AutoModelForCausalLM</c>).</summary>
public static class AutoModelForCausalLM
{
    /// <summary>The <c>model_type</c> values this version builds.</summary>
    public static readonly string[] SupportedModelTypes = ["llama", "qwen2", "gpt2"];

    /// <summary>
    /// The model of <paramref name="directory"/>'s config.json (chosen by <c>model_type</c>) with its safetensors weights,
    /// in <paramref name="dtype"/> (weights are cast on load) on <paramref name="device"/> (the CPU when null).
    /// </summary>
    public static ICausalLM FromPretrained(string directory, DType dtype = DType.Float32, Device? device = null)
    {
        string file = Path.Combine(directory, "config.json");
        if (!File.Exists(file)) throw new FileNotFoundException($"{directory}: no config.json", file);
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        string type = new ConfigJson(doc.RootElement, file).String("model_type", "");
        Module model = type switch
        {
            "llama" => new LlamaForCausalLM(LlamaConfig.FromJson(doc.RootElement, file)),
            "qwen2" => new Qwen2ForCausalLM(Qwen2Config.FromJson(doc.RootElement, file)),
            "gpt2" => new GPT2LMHeadModel(GPT2Config.FromJson(doc.RootElement, file)),
            _ => throw new KilnException("from_pretrained", $"{file}: model_type '{type}' is not supported (supported: {string.Join(", ", SupportedModelTypes)})", KilnErrorKind.Unsupported),
        };
        if (dtype != DType.Float32) model.To(dtype);
        PretrainedWeights.LoadInto(model, directory);
        if (device is { } d) model.To(d);
        model.Eval();
        return (ICausalLM)model;
    }
}
