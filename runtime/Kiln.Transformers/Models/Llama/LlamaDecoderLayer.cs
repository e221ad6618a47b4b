using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>One pre-norm Llama block: x + attn(input_layernorm(x)), then + mlp(post_attention_layernorm(·)).</summary>
public sealed class LlamaDecoderLayer : Module
{
    /// <summary>A block of <paramref name="config"/>'s sizes.</summary>
    public LlamaDecoderLayer(LlamaConfig config)
    {
        SelfAttn = RegisterModule("self_attn", new LlamaAttention(config));
        Mlp = RegisterModule("mlp", new LlamaMlp(config));
        InputLayernorm = RegisterModule("input_layernorm", new RMSNorm(config.HiddenSize, config.RmsNormEps));
        PostAttentionLayernorm = RegisterModule("post_attention_layernorm", new RMSNorm(config.HiddenSize, config.RmsNormEps));
    }

    /// <summary>The attention.</summary>
    public LlamaAttention SelfAttn { get; }
    /// <summary>The feed-forward.</summary>
    public LlamaMlp Mlp { get; }
    /// <summary>The norm before attention.</summary>
    public RMSNorm InputLayernorm { get; }
    /// <summary>The norm before the feed-forward.</summary>
    public RMSNorm PostAttentionLayernorm { get; }

    /// <summary>The block over <paramref name="x"/> [batch, length, hidden] (see <see cref="LlamaAttention.Forward(Tensor, Tensor, Tensor, Tensor?)"/> for the rest).</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask) => Forward(x, cos, sin, mask, null, 0);

    internal Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer)
    {
        var h = x + SelfAttn.Forward(InputLayernorm.Forward(x), cos, sin, mask, cache, layer);
        return h + Mlp.Forward(PostAttentionLayernorm.Forward(h));
    }
}
