using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// GPT-2's attention: one fused <c>c_attn</c> [embd, 3·embd] projection split into q, k, v; <c>c_proj</c> out. While
/// training, dropout on the attention probabilities (<c>attn_pdrop</c>) and on the output (<c>resid_pdrop</c>).
/// </summary>
[Model]
public sealed partial class GPT2Attention : Module
{
    readonly int heads, headDim, embed;
    readonly double scale, attnPdrop;

    /// <summary>Layer <paramref name="layerIdx"/>'s attention of <paramref name="config"/>'s sizes.</summary>
    public GPT2Attention(GPT2Config config, int layerIdx)
    {
        heads = config.NHead; headDim = config.HeadDim; embed = heads * headDim;
        scale = (config.ScaleAttnWeights ? 1.0 / System.Math.Sqrt(headDim) : 1.0) / (config.ScaleAttnByInverseLayerIdx ? layerIdx + 1 : 1);
        CAttn = new Conv1D(config.NEmbd, 3 * config.NEmbd);
        CProj = new Conv1D(config.NEmbd, config.NEmbd);
        ResidDropout = new Dropout(config.ResidPdrop);
        attnPdrop = config.AttnPdrop;
    }

    /// <summary>The fused q/k/v projection.</summary>
    [PyTorchName("c_attn")] public Conv1D CAttn { get; private set; }
    /// <summary>The output projection.</summary>
    [PyTorchName("c_proj")] public Conv1D CProj { get; private set; }
    /// <summary>Dropout on the output projection while training.</summary>
    [PyTorchName("resid_dropout")] public Dropout ResidDropout { get; private set; }

    /// <summary>Attention over <paramref name="x"/> [batch, length, embd]: causal without <paramref name="mask"/>, with it the additive mask [batch, 1, length, length].</summary>
    public Tensor Forward(Tensor x, Tensor? mask)
    {
        var qkv = CAttn.Forward(x);
        Tensor q = Heads(qkv, 0), k = Heads(qkv, 1), v = Heads(qkv, 2);
        var attn = Training ? F.ScaledDotProductAttention(q, k, v, attnMask: mask, dropoutP: attnPdrop, isCausal: mask is null, scale: scale)
                            : F.ScaledDotProductAttention(q, k, v, attnMask: mask, isCausal: mask is null, scale: scale);
        return Output(attn);
    }

    /// <summary>As <see cref="Forward"/>, the new keys and values appended to <paramref name="cache"/> (layer <paramref name="layer"/>) and attended with the cached ones.</summary>
    internal Tensor Step(Tensor x, Tensor? mask, KvCache cache, int layer)
    {
        var qkv = CAttn.Forward(x);
        Tensor q = Heads(qkv, 0), k = Heads(qkv, 1), v = Heads(qkv, 2);
        if (cache is PagedBatch paged) return Output(paged.Attend(layer, q, k, v, scale));
        if (mask is null && cache is StaticKvCache own && own.TryAttendOne(layer, q, k, v, scale, out var step)) return Output(step);
        (k, v) = cache.Append(layer, k, v);
        return Output(F.ScaledDotProductAttention(q, k, v, attnMask: mask, scale: scale));
    }

    /// <summary>Part <paramref name="part"/> (0 q, 1 k, 2 v) of the fused projection as heads [batch, heads, length, headDim].</summary>
    Tensor Heads(Tensor qkv, int part) => qkv.Narrow(-1, part * embed, embed).Unflatten(2, heads, headDim).Transpose(1, 2);

    /// <summary>The heads merged and projected back to [batch, length, embd].</summary>
    Tensor Output(Tensor attn) => ResidDropout.Forward(CProj.Forward(attn.Transpose(1, 2).Flatten(2)));
}
