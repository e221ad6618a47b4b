using System;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// Llama's self-attention: q/k/v projections into heads, rotary positions on q and k, one fused scaled-dot-product
/// attention with grouped key/value heads (causal, plus an optional additive mask), o_proj.
/// Child names are Hugging Face's (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c>).
/// </summary>
public sealed class LlamaAttention : Module
{
    readonly int _heads, _kvHeads, _headDim;

    /// <summary>The projections of <paramref name="config"/>'s sizes.</summary>
    public LlamaAttention(LlamaConfig config)
    {
        _heads = config.NumAttentionHeads; _kvHeads = config.NumKeyValueHeads; _headDim = config.HeadDim;
        int h = config.HiddenSize;
        RegisterModule("q_proj", new Linear(h, _heads * _headDim, config.QkvBias));
        RegisterModule("k_proj", new Linear(h, _kvHeads * _headDim, config.QkvBias));
        RegisterModule("v_proj", new Linear(h, _kvHeads * _headDim, config.QkvBias));
        RegisterModule("o_proj", new Linear(_heads * _headDim, h, config.OutputBias));
    }

    /// <summary>The query projection.</summary>
    public Linear QProj => Child<Linear>("q_proj");
    /// <summary>The key projection.</summary>
    public Linear KProj => Child<Linear>("k_proj");
    /// <summary>The value projection.</summary>
    public Linear VProj => Child<Linear>("v_proj");
    /// <summary>The output projection.</summary>
    public Linear OProj => Child<Linear>("o_proj");

    /// <summary>
    /// Attention over <paramref name="x"/> [batch, length, hidden] with rotary tables [length, headDim]; without
    /// <paramref name="mask"/> causal, with it the additive mask [batch, 1, length, length] (causal and padding folded in).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask) => Forward(x, cos, sin, mask, null, 0);

    /// <summary>As <see cref="Forward(Tensor, Tensor, Tensor, Tensor?)"/>, the new keys and values appended to <paramref name="cache"/> (layer <paramref name="layer"/>) and attended with the cached ones; <paramref name="mask"/> then spans every cached position.</summary>
    internal Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache, int layer)
    {
        int b = x.Size(0), s = x.Size(1);
        var q = RotaryEmbedding.Apply(QProj.Forward(x).View(b, s, _heads, _headDim).Transpose(1, 2), cos, sin);
        var k = RotaryEmbedding.Apply(KProj.Forward(x).View(b, s, _kvHeads, _headDim).Transpose(1, 2), cos, sin);
        var v = VProj.Forward(x).View(b, s, _kvHeads, _headDim).Transpose(1, 2);
        if (cache is PagedBatch paged) return Output(paged.Attend(layer, q, k, v, 1 / Math.Sqrt(_headDim)), b, s);
        if (mask is null && cache is StaticKvCache own && own.TryAttendOne(layer, q, k, v, 1 / Math.Sqrt(_headDim), out var step)) return Output(step, b, s);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);
        // No mask: causal over a fresh sequence, or (one new token with a cache) every cached position. Half-precision
        // models attend in float32 (the streaming-softmax kernel's type) and cast back, as HF upcasts the softmax.
        // Grouped-query attention reads each key/value head for its group of query heads (HF's repeat_kv, without copies).
        var dtype = q.DType;
        if (dtype is DType.BFloat16 or DType.Float16) { q = q.To(DType.Float32); k = k.To(DType.Float32); v = v.To(DType.Float32); mask = mask?.To(DType.Float32); }
        var attn = mask is not null ? F.ScaledDotProductAttention(q, k, v, attnMask: mask, enableGqa: true)
            : F.ScaledDotProductAttention(q, k, v, isCausal: cache is null, enableGqa: true);
        if (attn.DType != dtype) attn = attn.To(dtype);
        return Output(attn, b, s);
    }

    /// <summary>The heads [b, heads, s, d] merged and projected back to [b, s, hidden].</summary>
    Tensor Output(Tensor attn, int b, int s) => OProj.Forward(attn.Transpose(1, 2).Reshape(b, s, _heads * _headDim));
}
