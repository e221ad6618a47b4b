namespace Kiln.Transformers;

/// <summary>
/// Qwen2 as a causal language model (Hugging Face's <c>Qwen2ForCausalLM</c>): Llama's decoder with q/k/v biases, no
/// o_proj bias, and sliding-window attention in the layers the config marks; the same key names (<c>model.</c>,
/// <c>lm_head</c>, or tied embeddings).
/// </summary>
public sealed class Qwen2ForCausalLM : LlamaForCausalLM
{
    /// <summary>A model of <paramref name="config"/>'s sizes (read it with <see cref="Qwen2Config"/>).</summary>
    public Qwen2ForCausalLM(LlamaConfig config) : base(config) { }
}
