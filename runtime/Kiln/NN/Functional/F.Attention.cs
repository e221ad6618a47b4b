using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// softmax(q·kᵀ·scale + mask)·v over [..., L, E] / [..., S, E] / [..., S, Ev] (<c>F.scaled_dot_product_attention</c>).
    /// A bool <paramref name="attnMask"/> marks positions that take part (true); a float one is added to the scores.
    /// With <paramref name="enableGqa"/> (grouped-query attention, as in Llama, Qwen and Mistral) key and value may have
    /// fewer heads (dim -3) than query, a divisor of its count: query head h attends with key/value head h / (Hq / Hkv),
    /// which is what repeating each key/value head Hq / Hkv times would give, without the copies.
    /// Without dropout this runs Kiln's streaming-softmax kernel, which never stores the L×S probabilities.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null, double dropoutP = 0,
        bool isCausal = false, double? scale = null, Generator? generator = null, bool enableGqa = false)
    {
        using var scope = Tensor.Scope();
        const string op = "scaled_dot_product_attention";
        if (isCausal && attnMask is not null)
            throw new KilnException(op, $"{op}: explicit attn_mask should not be set when is_causal=True");
        if (dropoutP < 0 || dropoutP > 1) throw new KilnException(op, $"{op}: dropout probability has to be between 0 and 1, but got {dropoutP}");
        ShapeRules.Attention(query.ShapeArray, key.ShapeArray, value.ShapeArray, enableGqa, out int group);
        // Under autocast attention is a lower-precision op (PyTorch's lists, both devices): query, key and value in the
        // 16-bit type — rotary embedding's float32 tables leave query and key float32 beside a 16-bit value. The mask keeps
        // its type, so a float32 mask's lowest value stays finite.
        if (Autocast.Lower(query, key, value) is { } low)
            return scope.Keep(Autocast.RunLowered(t => ScaledDotProductAttention(t[0]!, t[1]!, t[2]!, attnMask, dropoutP, isCausal, scale, generator, enableGqa), low, query, key, value));
        if (dropoutP == 0 && query.DType is DType.BFloat16 or DType.Float16 && key.DType == query.DType && value.DType == query.DType)
        {
            // Half precision attends in float32 (the streaming kernels' type; PyTorch's CPU kernels accumulate in float
            // too, and Hugging Face's eager attention upcasts its softmax) and casts back.
            var half = query.DType;
            var mask = attnMask is not null && attnMask.DType == half ? attnMask.To(DType.Float32) : attnMask;
            return scope.Keep(ScaledDotProductAttention(query.To(DType.Float32), key.To(DType.Float32), value.To(DType.Float32), mask, 0, isCausal, scale, generator, enableGqa).To(half));
        }
        double sc = scale ?? 1.0 / Math.Sqrt(query.Size(-1));
        using var additive = attnMask is null ? null : AdditiveMask(attnMask, query.DType, trueMeansKeep: true);
        if (dropoutP == 0 && query.Backend.Attention(query, key, value, additive, isCausal, sc, enableGqa) is { } fused) return scope.Keep(fused);
        // Where the device has no streaming kernel, or with dropout: the materialised form, recorded op by op (GEMMs and the
        // row softmax), key/value heads repeated for their groups.
        var weights = AttentionWeights(query, RepeatHeads(key, group), additive, isCausal, sc);
        if (dropoutP > 0) weights = Dropout(weights, dropoutP, true, generator);
        return scope.Keep(weights.Matmul(RepeatHeads(value, group)));
    }

    /// <summary>[..., heads, S, E] → [..., heads·group, S, E], each head repeated for the query heads of its group.</summary>
    static Tensor RepeatHeads(Tensor t, int group)
    {
        if (group == 1) return t;
        var sh = t.ShapeArray;
        int[] expanded = [.. sh[..^2], group, sh[^2], sh[^1]];   // [..., heads, group, S, E]
        return t.Unsqueeze(-3).Expand(expanded).Reshape([.. sh[..^3], sh[^3] * group, sh[^2], sh[^1]]);
    }

    /// <summary>softmax(q·kᵀ·scale + mask) materialised (for returned weights and dropout).</summary>
    static Tensor AttentionWeights(Tensor query, Tensor key, Tensor? additive, bool causal, double scale)
    {
        var scores = query.Matmul(key.Transpose(-2, -1)) * scale;
        if (additive is not null) scores = scores + additive;
        if (causal)
        {
            int l = query.Size(-2), s = key.Size(-2);
            using var ones = Tensor.Ones(new[] { l, s }, DType.Bool, scores.Device);
            using var above = ones.Triu(1);
            scores = scores.MaskedFill(above, double.NegativeInfinity);
        }
        return scores.Softmax(-1);
    }

    /// <summary>A bool or float mask as an additive float mask (0 where attending, -inf where not).</summary>
    static Tensor AdditiveMask(Tensor mask, DType dtype, bool trueMeansKeep)
    {
        if (mask.DType == DType.Bool)
        {
            // Two numbers chosen by the mask (not a filled copy of a zeros tensor): a traced export then has no constant
            // of the example's batch size here.
            using var blocked = Tensor.Full([], double.NegativeInfinity, dtype, mask.Device);
            using var open = Tensor.Zeros([], dtype, mask.Device);
            return Tensor.Where(trueMeansKeep ? mask.LogicalNot() : mask, blocked, open);
        }
        if (!mask.DType.IsFloatingPoint()) throw new KilnException("attention", $"attention: masks must be bool or floating point, got {mask.DType}", KilnErrorKind.DType);
        return mask.ToInternal(dtype);
    }

    /// <summary>
    /// Multi-head attention (<c>F.multi_head_attention_forward</c>) on batch-first [N, L, E] inputs: input projections,
    /// per-head attention, output projection. Bool masks mark positions to ignore (true), as in <c>nn.MultiheadAttention</c>.
    /// Returns the output [N, L, E] and, with <paramref name="needWeights"/>, the weights [N, L, S] (averaged over heads)
    /// or [N, H, L, S].
    /// </summary>
    public static (Tensor Output, Tensor? Weights) MultiHeadAttention(Tensor query, Tensor key, Tensor value, int numHeads,
        Tensor qWeight, Tensor kWeight, Tensor vWeight, Tensor? qBias, Tensor? kBias, Tensor? vBias, Tensor outWeight, Tensor? outBias,
        Tensor? keyPaddingMask = null, bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true,
        double dropoutP = 0, bool training = true, bool isCausal = false, Generator? generator = null,
        Tensor? biasK = null, Tensor? biasV = null, bool addZeroAttn = false)
    {
        const string op = "multi_head_attention_forward";
        if (query.Dim != 3 || key.Dim != 3 || value.Dim != 3)
            throw new KilnException(op, $"{op}: expected batched 3-D query, key and value, got {ShapeText.Format(query.ShapeArray)}, {ShapeText.Format(key.ShapeArray)}, {ShapeText.Format(value.ShapeArray)}", KilnErrorKind.Shape);
        int n = query.Size(0), l = query.Size(1), e = query.Size(2), s = key.Size(1);
        if (e % numHeads != 0) throw new KilnException(op, $"{op}: embed_dim {e} not divisible by num_heads {numHeads}");
        if (key.Size(0) != n || value.Size(0) != n || value.Size(1) != s)
            throw new KilnException(op, $"{op}: key and value must share the batch and sequence sizes of the query batch; got query {ShapeText.Format(query.ShapeArray)}, key {ShapeText.Format(key.ShapeArray)}, value {ShapeText.Format(value.ShapeArray)}", KilnErrorKind.Shape);
        return AttendProjected(Linear(query, qWeight, qBias), Linear(key, kWeight, kBias), Linear(value, vWeight, vBias), numHeads, outWeight, outBias,
            keyPaddingMask, needWeights, attnMask, averageAttnWeights, dropoutP, training, isCausal, generator, biasK, biasV, addZeroAttn);
    }

    /// <summary>The part of multi-head attention after the input projections: q [N, L, E], k and v [N, S, E].</summary>
    internal static (Tensor Output, Tensor? Weights) AttendProjected(Tensor qp, Tensor kp, Tensor vp, int numHeads, Tensor outWeight, Tensor? outBias,
        Tensor? keyPaddingMask, bool needWeights, Tensor? attnMask, bool averageAttnWeights, double dropoutP, bool training, bool isCausal, Generator? generator,
        Tensor? biasK = null, Tensor? biasV = null, bool addZeroAttn = false)
    {
        const string op = "multi_head_attention_forward";
        int n = qp.Size(0), l = qp.Size(1), e = qp.Size(2), s = kp.Size(1);
        int hd = e / numHeads;
        var q = Heads(qp, n, l, numHeads, hd);
        var k = Heads(kp, n, s, numHeads, hd);
        var v = Heads(vp, n, s, numHeads, hd);
        // Extra keys every query attends to: learned bias_k/bias_v (add_bias_kv), then a zero key/value (add_zero_attn).
        int extra = 0;
        if ((biasK is null) != (biasV is null)) throw new KilnException(op, $"{op}: bias_k and bias_v must be given together");
        if (biasK is not null)
        {
            k = Tensor.Cat([k, Heads(biasK.Reshape(1, 1, e).Expand(n, 1, e), n, 1, numHeads, hd)], 2);
            v = Tensor.Cat([v, Heads(biasV!.Reshape(1, 1, e).Expand(n, 1, e), n, 1, numHeads, hd)], 2);
            extra++;
        }
        if (addZeroAttn)
        {
            // On the keys' device (a CUDA model's zero key was made on the host).
            k = Tensor.Cat([k, Tensor.Zeros([n, numHeads, 1, hd], k.DType, k.Device)], 2);
            v = Tensor.Cat([v, Tensor.Zeros([n, numHeads, 1, hd], v.DType, v.Device)], 2);
            extra++;
        }
        if (extra > 0 && isCausal) throw new KilnException(op, $"{op}: is_causal cannot be combined with add_bias_kv or add_zero_attn");

        Tensor? mask = null;
        if (attnMask is not null)
        {
            if (attnMask.Dim == 2)
            {
                if (attnMask.Size(0) != l || attnMask.Size(1) != s)
                    throw new KilnException(op, $"{op}: The shape of the 2D attn_mask is {ShapeText.Format(attnMask.ShapeArray)}, but should be [{l}, {s}].", KilnErrorKind.Shape);
                mask = AdditiveMask(attnMask, qp.DType, trueMeansKeep: false);
            }
            else if (attnMask.Dim == 3)
            {
                if (attnMask.Size(0) != n * numHeads || attnMask.Size(1) != l || attnMask.Size(2) != s)
                    throw new KilnException(op, $"{op}: The shape of the 3D attn_mask is {ShapeText.Format(attnMask.ShapeArray)}, but should be [{n * numHeads}, {l}, {s}].", KilnErrorKind.Shape);
                using var m = AdditiveMask(attnMask, qp.DType, trueMeansKeep: false);
                mask = m.Reshape(n, numHeads, l, s);
            }
            else throw new KilnException(op, $"{op}: attn_mask's dimension {attnMask.Dim} is not supported (2 or 3)", KilnErrorKind.Unsupported);
        }
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.Dim != 2 || keyPaddingMask.Size(0) != n || keyPaddingMask.Size(1) != s)
                throw new KilnException(op, $"{op}: expecting key_padding_mask shape of [{n}, {s}], but got {ShapeText.Format(keyPaddingMask.ShapeArray)}", KilnErrorKind.Shape);
            using var kpm = AdditiveMask(keyPaddingMask, qp.DType, trueMeansKeep: false);
            var kp4 = kpm.View(n, 1, 1, s);
            mask = mask is null ? kp4 : mask + kp4;
        }
        // The extra keys are never masked.
        if (extra > 0 && mask is not null) mask = Pad(mask, [0, extra]);
        double p = training ? dropoutP : 0;
        double scale = 1.0 / Math.Sqrt(hd);
        Tensor attended;
        Tensor? weights = null;
        if (needWeights || p > 0)
        {
            var w = AttentionWeights(q, k, mask, isCausal, scale);
            if (p > 0) w = Dropout(w, p, true, generator);
            attended = w.Matmul(v);
            if (needWeights) weights = averageAttnWeights ? w.Mean(1) : w;
        }
        else attended = q.Backend.Attention(q, k, v, mask, isCausal, scale, false) ?? AttentionWeights(q, k, mask, isCausal, scale).Matmul(v);
        var merged = attended.Transpose(1, 2).Reshape(n, l, e);
        return (Linear(merged, outWeight, outBias), weights);
    }

    static Tensor Heads(Tensor x, int n, int len, int heads, int hd) => x.View(n, len, heads, hd).Transpose(1, 2);
}
