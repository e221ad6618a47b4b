using Kiln;
using Kiln.Transformers;

/// <summary>The decode benchmark's model: Llama-shaped, ~124M parameters, random weights (the same shapes as torch_bench.py's).</summary>
static class LlamaBench
{
    public const string Title = "## Language-model decoding";
    public const int PromptTokens = 32, NewTokens = 16;

    public static readonly LlamaConfig Config = new()
    {
        VocabSize = 32000,
        HiddenSize = 768,
        IntermediateSize = 2048,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        NumKeyValueHeads = 4,
        HeadDim = 64,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
        MaxPositionEmbeddings = 2048,
    };

    public const string Description =
        "Greedy generation with a Llama-shaped model (hidden 768, 12 layers, 12 query / 4 key-value heads, SwiGLU 2048, vocabulary 32000, untied head: 124M parameters, random weights, fp32, and bf16 weights: the model cast with To(BFloat16), as FromPretrained(dir, BFloat16) loads it): a 32-token prompt per row, then 16 new tokens; the time is the whole call (prefill and 16 steps). Kiln: `model.Generate` with its preallocated KV cache; PyTorch: the golden script's reference Llama with Hugging Face's cache behaviour (keys and values concatenated per step), eager, no_grad, its weights and activations in the same dtype.";

    /// <summary>The model and a batch of prompts.</summary>
    public static (LlamaForCausalLM Model, Tensor Ids) Create(int batch, Generator g, DType dtype = DType.Float32)
    {
        var model = new LlamaForCausalLM(Config);
        if (dtype != DType.Float32) model.To(dtype);
        model.Eval();
        var ids = Tensor.RandInt(3, Config.VocabSize, new[] { batch, PromptTokens }, generator: g);
        return (model, ids);
    }
}
