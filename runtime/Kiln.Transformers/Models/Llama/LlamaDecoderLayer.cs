using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// One pre-norm Llama block: x + attn(input_layernorm(x)), then + mlp(post_attention_layernorm(·)). A [Model] class:
/// <c>Compile()</c> runs the block (its attention and feed-forward inlined) by generated kernels, one autograd node.
/// </summary>
[Model]
public sealed partial class LlamaDecoderLayer : Module
{
    /// <summary>A block of <paramref name="config"/>'s sizes.</summary>
    public LlamaDecoderLayer(LlamaConfig config)
    {
        SelfAttn = new LlamaAttention(config);
        Mlp = new LlamaMlp(config);
        InputLayernorm = new RMSNorm(config.HiddenSize, config.RmsNormEps);
        PostAttentionLayernorm = new RMSNorm(config.HiddenSize, config.RmsNormEps);
    }

    /// <summary>The attention.</summary>
    [PyTorchName("self_attn")] public LlamaAttention SelfAttn { get; private set; }
    /// <summary>The feed-forward.</summary>
    [PyTorchName("mlp")] public LlamaMlp Mlp { get; private set; }
    /// <summary>The norm before attention.</summary>
    [PyTorchName("input_layernorm")] public RMSNorm InputLayernorm { get; private set; }
    /// <summary>The norm before the feed-forward.</summary>
    [PyTorchName("post_attention_layernorm")] public RMSNorm PostAttentionLayernorm { get; private set; }

    /// <summary>The block over <paramref name="x"/> [batch, length, hidden] (see <see cref="LlamaAttention.Forward(Tensor, Tensor, Tensor, Tensor?)"/> for the rest).</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask)
    {
        var h = x + SelfAttn.Forward(InputLayernorm.Forward(x), cos, sin, mask);
        return h + Mlp.Forward(PostAttentionLayernorm.Forward(h));
    }

    /// <summary>The block with <paramref name="cache"/> (layer <paramref name="layer"/>): the new keys and values appended and attended with the cached ones.</summary>
    internal Tensor Step(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache cache, int layer)
    {
        var h = x + SelfAttn.Step(InputLayernorm.Forward(x), cos, sin, mask, cache, layer);
        return h + Mlp.Forward(PostAttentionLayernorm.Forward(h));
    }
}
