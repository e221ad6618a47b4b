using Kiln.Compiler.Ops;
using Kiln.NN;

namespace Kiln.Compilation;

/// <summary>
/// Self-attention of a <see cref="MultiheadAttention"/> layer (packed q/k/v projection, heads, attention, output
/// projection) as a compiled model runs it: unrecorded forward that keeps only what its backward reads, and a backward
/// that applies the registry's derivative rules to those saved values. Without attention dropout it runs the streaming
/// kernel and keeps its row statistics (max and sum); with dropout it materialises the probabilities as eager does and regenerates the
/// dropout mask from its counter-based draw instead of keeping it.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class CompiledAttention
{
    readonly MultiheadAttention _layer;
    readonly Tensor _input, _qkv, _merged;
    readonly Tensor? _stats, _attended, _probabilities;
    readonly DropoutDraw _draw;
    readonly bool _dropped;
    readonly int _n, _l, _e, _heads;
    readonly double _scale;

    CompiledAttention(MultiheadAttention layer, Tensor input, Tensor qkv, Tensor merged, Tensor? stats, Tensor? attended, Tensor? probabilities,
        DropoutDraw draw, bool dropped, Tensor output)
    {
        _layer = layer; _input = input; _qkv = qkv; _merged = merged; _stats = stats; _attended = attended; _probabilities = probabilities;
        _draw = draw; _dropped = dropped; Output = output;
        _n = input.Size(0); _l = input.Size(1); _e = layer.EmbedDim; _heads = layer.NumHeads;
        _scale = 1.0 / System.Math.Sqrt(_e / _heads);
    }

    /// <summary>The attention block's output [N, L, E].</summary>
    public Tensor Output { get; }

    /// <summary>Whether a layer has the form compiled models handle: batch-first, packed projection, no extra keys.</summary>
    internal static bool Fusable(MultiheadAttention layer) =>
        layer.BatchFirst && layer.InProjWeight is not null && !layer.AddBiasKv && !layer.AddZeroAttn;

    /// <summary>Runs self-attention on <paramref name="x"/> [N, L, E], saving into <paramref name="ctx"/> what the backward reads.</summary>
    internal static CompiledAttention Forward(FunctionContext ctx, MultiheadAttention layer, Tensor x)
    {
        if (x.Dim != 3) throw new KilnException("multi_head_attention_forward", $"multi_head_attention_forward: compiled self-attention takes batched [N, L, E] input, got {Compiler.Shapes.ShapeText.Format(x.ShapeArray)}", KilnErrorKind.Shape);
        Compiler.Shapes.LayerRules.AttentionQuery(x.ShapeArray, layer.EmbedDim);
        using var _ = Autograd.NoGrad();
        int n = x.Size(0), l = x.Size(1), e = layer.EmbedDim, h = layer.NumHeads, hd = e / h;
        double scale = 1.0 / System.Math.Sqrt(hd);
        var qkv = F.Linear(x, layer.InProjWeight!, layer.InProjBias);
        var (q, k, v) = Heads(qkv, n, l, e, h);
        double p = layer.Training ? layer.Dropout : 0;
        Tensor attended;
        Tensor? stats = null, probabilities = null;
        var draw = default(DropoutDraw);
        if (p > 0)
        {
            // As eager: probabilities materialised, one dropout draw over them, then the product with v.
            probabilities = (q.Matmul(k.Transpose(-2, -1)) * scale).Softmax(-1);
            draw = DropoutDraw.Reserve(probabilities.Numel, p);
            using var mask = Mask(draw, probabilities);
            using var dropped = probabilities * mask;
            attended = dropped.Matmul(v);
            ctx.Save(probabilities);
        }
        else
        {
            var keep = new Tensor[1];
            attended = Tensor.AttentionOp(q, k, v, null, false, scale, keep);
            stats = ctx.Save(keep[0]);
            ctx.Save(attended);
        }
        var merged = attended.Transpose(1, 2).Reshape(n, l, e);
        var output = F.Linear(merged, layer.OutProj.Weight, layer.OutProj.Bias);
        ctx.Save(x); ctx.Save(qkv); ctx.Save(merged);
        return new CompiledAttention(layer, x, qkv, merged, stats, p > 0 ? null : attended, probabilities, draw, p > 0, output);
    }

    static (Tensor Q, Tensor K, Tensor V) Heads(Tensor qkv, int n, int l, int e, int h) =>
        (Split(qkv, 0, n, l, e, h), Split(qkv, e, n, l, e, h), Split(qkv, 2 * e, n, l, e, h));

    static Tensor Split(Tensor qkv, int start, int n, int l, int e, int h) => qkv.Narrow(2, start, e).View(n, l, h, e / h).Transpose(1, 2);

    static Tensor Mask(DropoutDraw draw, Tensor like)
    {
        var mask = Tensor.EmptyLike(like);
        draw.Fill(mask.AsSpan<float>());
        return mask;
    }

    /// <summary>The gradients of the block: input (when asked), packed projection weight and bias, output projection weight and bias.</summary>
    public (Tensor? Input, Tensor InWeight, Tensor? InBias, Tensor OutWeight, Tensor? OutBias) Backward(Tensor grad, bool needInput)
    {
        using var _ = Autograd.NoGrad();
        var outProj = CompiledOps.LinearBackward(_merged, _layer.OutProj.Weight, _layer.OutProj.Bias is not null, grad, true);
        var dAttended = outProj.Input!.View(_n, _l, _heads, _e / _heads).Transpose(1, 2);
        var (q, k, v) = Heads(_qkv, _n, _l, _e, _heads);
        Tensor dq, dk, dv;
        if (_dropped)
        {
            var probabilities = _probabilities!;
            using var mask = Mask(_draw, probabilities);
            using var dropped = probabilities * mask;
            // matmul's rule reads only its inputs; the gradient stands in for the output it does not read.
            var dProduct = SavedCall.Backward("matmul", [dropped, v], dAttended, dAttended);
            dv = dProduct[1]!;
            using var dDropped = dProduct[0]!;
            using var dProbabilities = dDropped * mask;
            using var dScores = SavedCall.Backward("softmax", [probabilities], probabilities, dProbabilities, new DimArgs(-1))[0]!;
            using var dScaled = dScores * _scale;
            var kT = k.Transpose(-2, -1);
            var dScore = SavedCall.Backward("matmul", [q, kT], dScaled, dScaled);
            dq = dScore[0]!;
            dk = dScore[1]!.Transpose(-2, -1);
        }
        else
        {
            var d = SavedCall.Backward("sdpa", [q, k, v, _stats!], _attended!, dAttended, new AttentionArgs(_scale, Causal: false));
            dq = d[0]!; dk = d[1]!; dv = d[2]!;
        }
        var dqkv = Tensor.Cat([Merge(dq), Merge(dk), Merge(dv)], 2);
        var inProj = CompiledOps.LinearBackward(_input, _layer.InProjWeight!, _layer.InProjBias is not null, dqkv, needInput);
        return (inProj.Input, inProj.Weight, inProj.Bias, outProj.Weight, outProj.Bias);
    }

    Tensor Merge(Tensor heads) => heads.Transpose(1, 2).Reshape(_n, _l, _e);
}
