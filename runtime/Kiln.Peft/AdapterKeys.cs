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

    /// <summary>
    /// Writes an adapter folder: the tensors as adapter_model.safetensors and the config through <paramref name="writeConfig"/>,
    /// both to temporary names first and then moved, so a failure leaves no half-written adapter.
    /// </summary>
    public static void Write(string directory, System.Collections.Generic.IEnumerable<System.Collections.Generic.KeyValuePair<string, Tensor>> tensors, System.Action<string> writeConfig)
    {
        System.IO.Directory.CreateDirectory(directory);
        string weights = System.IO.Path.Combine(directory, WeightsFile), config = System.IO.Path.Combine(directory, ConfigFile);
        Kiln.IO.SafeTensors.Save(weights + ".tmp", tensors, new System.Collections.Generic.Dictionary<string, string> { ["format"] = "pt" });
        writeConfig(config + ".tmp");
        System.IO.File.Move(weights + ".tmp", weights, true);
        System.IO.File.Move(config + ".tmp", config, true);
    }
}
