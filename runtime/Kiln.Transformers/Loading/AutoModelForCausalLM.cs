namespace Kiln.Transformers;

/// <summary>Builds the causal language model a Hugging Face folder describes (<c>AutoModelForCausalLM</c>).</summary>
public static class AutoModelForCausalLM
{
    /// <summary>The <c>model_type</c> values this version builds.</summary>
    public static readonly string[] SupportedModelTypes = ["llama", "qwen2", "gpt2"];

    /// <summary>
    /// The model of <paramref name="directory"/>'s config.json (chosen by <c>model_type</c>) with its safetensors weights,
    /// in <paramref name="dtype"/> (weights are cast on load) on <paramref name="device"/> (the CPU when null).
    /// <paramref name="quantizationConfig"/> quantizes the linear layers while loading (transformers'
    /// <c>quantization_config=BitsAndBytesConfig(...)</c>); a folder saved quantized is read as it is without it.
    /// The model is a <see cref="Kiln.NN.Module"/> as well as an <see cref="ICausalLM"/>: it goes to <c>Peft.GetPeftModel</c>,
    /// the Trainer and <c>Compile()</c> without a cast.
    /// </summary>
    public static CausalLanguageModel FromPretrained(string directory, DType dtype = DType.Float32, Device? device = null, Kiln.Quantization.BitsAndBytesConfig? quantizationConfig = null)
    {
        var model = Build(directory, dtype, device, quantizationConfig);
        model.GenerationConfig = GenerationConfig.FromPretrained(directory);
        return model;
    }

    static CausalLanguageModel Build(string directory, DType dtype, Device? device, Kiln.Quantization.BitsAndBytesConfig? quantizationConfig) =>
        (CausalLanguageModel)PretrainedWeights.Build(directory, dtype, device, "", SupportedModelTypes, asBaseModel: false, (type, e, file) => type switch
        {
            "llama" => new LlamaForCausalLM(LlamaConfig.FromJson(e, file)),
            "qwen2" => new Qwen2ForCausalLM(Qwen2Config.FromJson(e, file)),
            "gpt2" => new GPT2LMHeadModel(GPT2Config.FromJson(e, file)),
            _ => null,
        }, quantizationConfig);
}
