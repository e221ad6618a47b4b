using Kiln.Transformers;

namespace Kiln.Peft;

/// <summary>The sizes prompt learning needs from a model (PEFT's <c>_prepare_prompt_learning_config</c>).</summary>
internal static class PromptShapes
{
    public static (int Hidden, int Layers, int Heads, int KvHeads, int HeadDim) Of(CausalLanguageModel model) => model switch
    {
        LlamaForCausalLM l => (l.Config.HiddenSize, l.Config.NumHiddenLayers, l.Config.NumAttentionHeads, l.Config.NumKeyValueHeads, l.Config.HeadDim),
        GPT2LMHeadModel g => (g.Config.NEmbd, g.Config.NLayer, g.Config.NHead, g.Config.NHead, g.Config.NEmbd / g.Config.NHead),
        _ => throw new KilnException("prompt_learning", $"prompt learning: {model.GetType().Name} is not a supported model (Llama family, GPT-2)"),
    };

    /// <summary><paramref name="config"/> with the sizes it left 0 taken from <paramref name="model"/>.</summary>
    public static PromptLearningConfig Complete(PromptLearningConfig config, CausalLanguageModel model)
    {
        var (hidden, layers, heads, kvHeads, headDim) = Of(model);
        bool prefix = config.PeftType == PromptLearningType.PrefixTuning;
        var c = config with
        {
            TokenDim = config.TokenDim > 0 ? config.TokenDim : prefix ? kvHeads * headDim : hidden,
            NumLayers = config.NumLayers > 0 ? config.NumLayers : layers,
            NumAttentionHeads = config.NumAttentionHeads > 0 ? config.NumAttentionHeads : prefix ? kvHeads : heads,
        };
        if (c.EncoderHiddenSize <= 0) c = c with { EncoderHiddenSize = c.TokenDim };
        if (c.NumVirtualTokens <= 0) throw new KilnException("prompt_learning", $"prompt learning: num_virtual_tokens must be positive, got {c.NumVirtualTokens}");
        if (prefix && (c.NumLayers != layers || c.TokenDim != kvHeads * headDim || c.NumAttentionHeads != kvHeads))
            throw new KilnException("prompt_learning", $"prompt learning: the prefix has {c.NumLayers} layers × {c.NumAttentionHeads} heads × {c.TokenDim} wide, the model {layers} layers × {kvHeads} key/value heads × {kvHeads * headDim}");
        if (!prefix && c.TokenDim != hidden)
            throw new KilnException("prompt_learning", $"prompt learning: token_dim {c.TokenDim} differs from the model's hidden size {hidden}");
        return c;
    }
}
