using System.Text.Json;

namespace Kiln.Transformers;

/// <summary>
/// Qwen2's <c>config.json</c> (Hugging Face's <c>Qwen2Config</c>): a Llama-shaped decoder whose q/k/v projections carry
/// biases and o_proj none, with optional sliding-window attention (<c>use_sliding_window</c>, <c>sliding_window</c>,
/// <c>max_window_layers</c>, or the per-layer <c>layer_types</c> newer versions write). Read into a
/// <see cref="LlamaConfig"/>, which <see cref="Qwen2ForCausalLM"/> runs.
/// </summary>
public static class Qwen2Config
{
    /// <summary>Reads <paramref name="path"/> (a config.json, or the folder holding it).</summary>
    public static LlamaConfig FromFile(string path) => ConfigJson.ReadFile(path, FromJson);

    /// <summary>Reads a parsed config (<paramref name="file"/> names it in errors).</summary>
    public static LlamaConfig FromJson(JsonElement e, string file)
    {
        var j = new ConfigJson(e, file);
        var c = LlamaConfig.FromJson(e, file) with { QkvBias = true, OutputBias = false, ModelType = "qwen2" };
        if (c.SlidingLayers is null && j.Bool("use_sliding_window", false))
        {
            // Older files: every layer from max_window_layers on slides.
            var sliding = new bool[c.NumHiddenLayers];
            bool any = false;
            for (int i = j.Int("max_window_layers", c.NumHiddenLayers); i < sliding.Length; i++) any = sliding[i] = true;
            c = c with { SlidingLayers = any ? sliding : null };
        }
        else if (!j.Bool("use_sliding_window", false)) c = c with { SlidingLayers = null };
        c.Validate(file);
        return c;
    }
}
