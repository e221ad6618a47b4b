using System;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// Llama's self-attention: q/k/v projections into heads, rotary positions on q and k, one fused scaled-dot-product
/// attention with grouped key/value heads (causal, plus an optional additive mask; dropout on its probabilities while
/// training when the config has <c>attention_dropout</c>), o_proj.
/// Child names are Hugging Face's (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c>).
/// </summary>
[Model]
public sealed partial class LlamaAttention : Module
{
    readonly int heads, kvHeads, headDim;
    readonly double attentionDropout;

    /// <summary>The projections of <paramref name="config"/>'s sizes.</summary>
    public LlamaAttention(LlamaConfig config)
    {
        heads = config.NumAttentionHeads; kvHeads = config.NumKeyValueHeads; headDim = config.HeadDim;
        attentionDropout = config.AttentionDropout;
        int h = config.HiddenSize;
        QProj = new Linear(h, heads * headDim, config.QkvBias);
        KProj = new Linear(h, kvHeads * headDim, config.QkvBias);
        VProj = new Linear(h, kvHeads * headDim, config.QkvBias);
        OProj = new Linear(heads * headDim, h, config.OutputBias);
    }

    /// <summary>The query projection.</summary>
    [PyTorchName("q_proj")] public Linear QProj { get; private set; }
    /// <summary>The key projection.</summary>
    [PyTorchName("k_proj")] public Linear KProj { get; private set; }
    /// <summary>The value projection.</summary>
    [PyTorchName("v_proj")] public Linear VProj { get; private set; }
    /// <summary>The output projection.</summary>
    [PyTorchName("o_proj")] public Linear OProj { get; private set; }

    /// <summary>
    /// Attention over <paramref name="x"/> [batch, length, hidden] with rotary tables [length, headDim]; without
    /// <paramref name="mask"/> causal, with it the additive mask [batch, 1, length, length] (causal and padding folded in).
    /// Grouped-query attention reads each key/value head for its group of query heads (HF's repeat_kv, without copies).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask)
    {
        Tensor q = Queries(x, cos, sin), k = Keys(x, cos, sin), v = Values(x);
        var attn = Training ? F.ScaledDotProductAttention(q, k, v, attnMask: mask, dropoutP: attentionDropout, isCausal: mask is null, enableGqa: true)
                            : F.ScaledDotProductAttention(q, k, v, attnMask: mask, isCausal: mask is null, enableGqa: true);
        return Output(attn);
    }

    /// <summary>
    /// As <see cref="Forward(Tensor, Tensor, Tensor, Tensor?)"/>, the new keys and values appended to <paramref name="cache"/>
    /// (layer <paramref name="layer"/>) and attended with the cached ones; <paramref name="mask"/> then spans every cached
    /// position (null: one new token, or a paged step that masks in its kernel).
    /// </summary>
    internal Tensor Step(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache cache, int layer)
    {
        Tensor q = Queries(x, cos, sin), k = Keys(x, cos, sin), v = Values(x);
        double scale = 1 / Math.Sqrt(headDim);
        if (cache is PagedBatch paged) return Output(paged.Attend(layer, q, k, v, scale));
        if (mask is null && cache is StaticKvCache own && own.TryAttendOne(layer, q, k, v, scale, out var step)) return Output(step);
        (k, v) = cache.Append(layer, k, v);
        return Output(F.ScaledDotProductAttention(q, k, v, attnMask: mask, enableGqa: true));
    }

    /// <summary>The rotated query heads [batch, heads, length, headDim].</summary>
    Tensor Queries(Tensor x, Tensor cos, Tensor sin) => F.RotaryEmbedding(QProj.Forward(x).Unflatten(2, heads, headDim).Transpose(1, 2), cos, sin);

    /// <summary>The rotated key heads [batch, kvHeads, length, headDim].</summary>
    Tensor Keys(Tensor x, Tensor cos, Tensor sin) => F.RotaryEmbedding(KProj.Forward(x).Unflatten(2, kvHeads, headDim).Transpose(1, 2), cos, sin);

    /// <summary>The value heads [batch, kvHeads, length, headDim].</summary>
    Tensor Values(Tensor x) => VProj.Forward(x).Unflatten(2, kvHeads, headDim).Transpose(1, 2);

    /// <summary>The heads [b, heads, s, d] merged and projected back to [b, s, hidden].</summary>
    Tensor Output(Tensor attn) => OProj.Forward(attn.Transpose(1, 2).Flatten(2));
}
