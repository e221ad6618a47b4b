using Kiln.NN;

namespace Kiln.Peft;

/// <summary>Entry points in PEFT's words: <see cref="GetPeftModel{T}"/> for a new adapter, <see cref="FromPretrained{T}"/> for a saved one.</summary>
public static class Peft
{
    /// <summary>
    /// Adds a new LoRA adapter to <paramref name="model"/> (in place) and freezes everything else
    /// (<c>peft.get_peft_model</c>). Train <c>result.Model</c>; save with <see cref="PeftModel{T}.SavePretrained"/>.
    /// </summary>
    public static PeftModel<T> GetPeftModel<T>(T model, LoraConfig config, string adapterName = "default") where T : Module
    {
        var peft = new PeftModel<T>(model);
        peft.AddAdapter(adapterName, config with { InferenceMode = false });
        peft.SetAdapter(adapterName);
        return peft;
    }

    /// <summary>
    /// Adds new virtual tokens to <paramref name="model"/> — prompt tuning, prefix tuning or P-tuning
    /// (<c>peft.get_peft_model</c> with a prompt-learning config); the base is frozen.
    /// </summary>
    public static PromptLearningModel GetPeftModel(Kiln.Transformers.CausalLanguageModel model, PromptLearningConfig config) => PromptLearningModel.Create(model, config);

    /// <summary>
    /// Loads the adapter saved in <paramref name="directory"/> (PEFT's adapter_config.json + adapter_model.safetensors)
    /// into <paramref name="model"/> (<c>PeftModel.from_pretrained</c>); frozen for inference unless <paramref name="isTrainable"/>.
    /// </summary>
    public static PeftModel<T> FromPretrained<T>(T model, string directory, string adapterName = "default", bool isTrainable = false) where T : Module
    {
        var peft = new PeftModel<T>(model);
        peft.LoadAdapter(directory, adapterName, isTrainable);
        return peft;
    }
}
