using System.Text.Json;

namespace Kiln.Transformers;

/// <summary>
/// How rotary position frequencies are rescaled for longer contexts (<c>rope_scaling</c>, or the newer
/// <c>rope_parameters</c>): <c>default</c>, <c>linear</c> (positions divided by <see cref="Factor"/>) or <c>llama3</c>
/// (low frequencies divided by the factor, high ones kept, a smooth blend between).
/// </summary>
public sealed record RopeScaling(string RopeType, double Factor = 1, double LowFreqFactor = 1, double HighFreqFactor = 4, int OriginalMaxPositionEmbeddings = 8192)
{
    /// <summary>No rescaling.</summary>
    public static RopeScaling Default { get; } = new("default");

    /// <summary>Reads a <c>rope_scaling</c> / <c>rope_parameters</c> object (<c>rope_type</c>, or the older <c>type</c>).</summary>
    public static RopeScaling FromJson(JsonElement e, string file)
    {
        string type = e.TryGetProperty("rope_type", out var t) ? t.GetString() ?? "default"
            : e.TryGetProperty("type", out var t2) ? t2.GetString() ?? "default" : "default";
        double Num(string name, double fallback) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        var r = new RopeScaling(type, Num("factor", 1), Num("low_freq_factor", 1), Num("high_freq_factor", 4), (int)Num("original_max_position_embeddings", 8192));
        if (type is not ("default" or "linear" or "llama3"))
            throw new KilnException("rope_scaling", $"{file}: rope type '{type}' is not supported yet (supported: default, linear, llama3)", KilnErrorKind.Unsupported);
        if (type != "default" && r.Factor <= 0)
            throw new KilnException("rope_scaling", $"{file}: rope_scaling factor must be positive, got {r.Factor}", KilnErrorKind.Argument);
        return r;
    }
}
