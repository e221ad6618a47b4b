using System.Text.Json;

namespace Kiln.Transformers;

/// <summary>
/// How rotary position frequencies are rescaled for longer contexts (<c>rope_scaling</c>, or the newer
/// <c>rope_parameters</c>), with Hugging Face's meanings: <c>default</c>; <c>linear</c> (positions divided by
/// <see cref="Factor"/>); <c>llama3</c> (low frequencies divided by the factor, high ones kept, a smooth blend between);
/// <c>yarn</c> (interpolated and extrapolated frequencies blended by a ramp between the <see cref="BetaFast"/> and
/// <see cref="BetaSlow"/> rotation counts, cos and sin scaled by an attention factor); <c>dynamic</c> (NTK: the base
/// grows with the longest position seen, recomputed as a sequence grows past <c>max_position_embeddings</c>).
/// </summary>
public sealed record RopeScaling(string RopeType, double Factor = 1, double LowFreqFactor = 1, double HighFreqFactor = 4, int? OriginalMaxPositionEmbeddings = null)
{
    /// <summary>No rescaling.</summary>
    public static RopeScaling Default { get; } = new("default");

    /// <summary>YaRN: rotations per context above which a frequency is kept (<c>beta_fast</c>, 32 when absent).</summary>
    public double BetaFast { get; init; } = 32;
    /// <summary>YaRN: rotations below which a frequency is fully interpolated (<c>beta_slow</c>, 1 when absent).</summary>
    public double BetaSlow { get; init; } = 1;
    /// <summary>YaRN: the factor on cos and sin (<c>attention_factor</c>); from <see cref="Mscale"/> or the scale when absent.</summary>
    public double? AttentionFactor { get; init; }
    /// <summary>YaRN: <c>mscale</c> (with <see cref="MscaleAllDim"/>, the attention factor is their ratio).</summary>
    public double? Mscale { get; init; }
    /// <summary>YaRN: <c>mscale_all_dim</c>.</summary>
    public double? MscaleAllDim { get; init; }
    /// <summary>YaRN: whether the correction range is rounded outward to whole dims (<c>truncate</c>, true when absent).</summary>
    public bool Truncate { get; init; } = true;

    static readonly string[] Supported = ["default", "linear", "llama3", "yarn", "dynamic"];

    /// <summary>Reads a <c>rope_scaling</c> / <c>rope_parameters</c> object (<c>rope_type</c>, or the older <c>type</c>).</summary>
    public static RopeScaling FromJson(JsonElement e, string file)
    {
        string type = e.TryGetProperty("rope_type", out var t) ? t.GetString() ?? "default"
            : e.TryGetProperty("type", out var t2) ? t2.GetString() ?? "default" : "default";
        bool Has(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number;
        double Num(string name, double fallback) => Has(name) ? e.GetProperty(name).GetDouble() : fallback;
        double? Opt(string name) => Has(name) ? e.GetProperty(name).GetDouble() : null;
        if (System.Array.IndexOf(Supported, type) < 0)
            throw new KilnException("rope_scaling", $"{file}: rope type '{type}' is not supported (supported: {string.Join(", ", Supported)})", KilnErrorKind.Unsupported);
        var r = new RopeScaling(type, Num("factor", 1), Num("low_freq_factor", 1), Num("high_freq_factor", 4), Has("original_max_position_embeddings") ? (int)Num("original_max_position_embeddings", 0) : null)
        {
            BetaFast = Num("beta_fast", 32),
            BetaSlow = Num("beta_slow", 1),
            AttentionFactor = Opt("attention_factor"),
            Mscale = Opt("mscale"),
            MscaleAllDim = Opt("mscale_all_dim"),
            Truncate = !(e.TryGetProperty("truncate", out var tr) && tr.ValueKind == JsonValueKind.False),
        };
        if (type != "default" && r.Factor <= 0)
            throw new KilnException("rope_scaling", $"{file}: rope_scaling factor must be positive, got {r.Factor}", KilnErrorKind.Argument);
        if (type == "llama3" && r.OriginalMaxPositionEmbeddings is null)
            throw new KilnException("rope_scaling", $"{file}: llama3 rope scaling needs original_max_position_embeddings", KilnErrorKind.Format);
        return r;
    }
}
