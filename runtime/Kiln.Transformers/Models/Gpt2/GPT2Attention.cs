using System;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>GPT-2's attention: one fused <c>c_attn</c> [embd, 3·embd] projection split into q, k, v; <c>c_proj</c> out.</summary>
public sealed class GPT2Attention : Module
{
    readonly int _heads, _headDim;
    readonly double _scale;

    /// <summary>Layer <paramref name="layerIdx"/>'s attention of <paramref name="config"/>'s sizes.</summary>
    public GPT2Attention(GPT2Config config, int layerIdx)
    {
        _heads = config.NHead; _headDim = config.HeadDim;
        _scale = (config.ScaleAttnWeights ? 1.0 / Math.Sqrt(_headDim) : 1.0) / (config.ScaleAttnByInverseLayerIdx ? layerIdx + 1 : 1);
        RegisterModule("c_attn", new Conv1D(config.NEmbd, 3 * config.NEmbd));
        RegisterModule("c_proj", new Conv1D(config.NEmbd, config.NEmbd));
    }

    /// <summary>The fused q/k/v projection.</summary>
    public Conv1D CAttn => Child<Conv1D>("c_attn");
    /// <summary>The output projection.</summary>
    public Conv1D CProj => Child<Conv1D>("c_proj");

    internal Tensor Forward(Tensor x, Tensor? mask, KvCache? cache, int layer)
    {
        int b = x.Size(0), s = x.Size(1), e = _heads * _headDim;
        var qkv = CAttn.Forward(x);
        Tensor Heads(int part) => qkv.Narrow(-1, part * e, e).View(b, s, _heads, _headDim).Transpose(1, 2);
        Tensor q = Heads(0), k = Heads(1), v = Heads(2);
        if (cache is PagedBatch paged) return CProj.Forward(paged.Attend(layer, q, k, v, _scale).Transpose(1, 2).Reshape(b, s, e));
        if (mask is null && cache is StaticKvCache own && own.TryAttendOne(layer, q, k, v, _scale, out var step)) return CProj.Forward(step.Transpose(1, 2).Reshape(b, s, e));
        if (cache is not null) (k, v) = cache.Append(layer, k, v);
        var attn = mask is not null ? F.ScaledDotProductAttention(q, k, v, attnMask: mask, scale: _scale)
            : F.ScaledDotProductAttention(q, k, v, isCausal: cache is null, scale: _scale);
        return CProj.Forward(attn.Transpose(1, 2).Reshape(b, s, e));
    }
}
