namespace Kiln.Peft;

/// <summary>PEFT's key names in adapter_model.safetensors: the base model's paths under <c>base_model.model.</c>, adapter names stripped.</summary>
internal static class AdapterKeys
{
    public const string Prefix = "base_model.model.";
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    /// <summary>PEFT's <c>EMBEDDING_LAYER_NAMES</c>: an adapter targeting one of these also saves its base weight.</summary>
    public static readonly string[] EmbeddingLayerNames = ["embed_tokens", "lm_head"];

    public static string Key(string path, string suffix) => Prefix + (path.Length == 0 ? suffix : path + "." + suffix);
}
