using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

/// <summary>The output projection of <see cref="MultiheadAttention"/>; a <see cref="Linear"/> under the name PyTorch prints and saves.</summary>
public sealed class NonDynamicallyQuantizableLinear(int inFeatures, int outFeatures, bool bias = true, DType dtype = DType.Float32)
    : Linear(inFeatures, outFeatures, bias, dtype);

/// <summary>
/// Multi-head attention (<c>nn.MultiheadAttention</c>) with PyTorch's parameters: <c>in_proj_weight</c> [3E, E] (or
/// <c>q/k/v_proj_weight</c> when key/value widths differ), <c>in_proj_bias</c>, <c>out_proj</c>.
/// </summary>
public sealed class MultiheadAttention : Module
{
    /// <summary>Attention over <paramref name="embedDim"/> features in <paramref name="numHeads"/> heads.</summary>
    public MultiheadAttention(int embedDim, int numHeads, double dropout = 0, bool bias = true, int? kdim = null, int? vdim = null,
        bool batchFirst = false, DType dtype = DType.Float32, bool addBiasKv = false, bool addZeroAttn = false)
    {
        Compiler.Shapes.LayerRules.AttentionHeads(embedDim, numHeads);
        EmbedDim = embedDim; NumHeads = numHeads; Dropout = dropout; BatchFirst = batchFirst;
        KDim = kdim ?? embedDim; VDim = vdim ?? embedDim;
        SameEmbedDim = KDim == embedDim && VDim == embedDim;
        if (SameEmbedDim)
            Init.XavierUniform_(RegisterParameter("in_proj_weight", Parameter(Tensor.Empty(new[] { 3 * embedDim, embedDim }, dtype)))!);
        else
        {
            Init.XavierUniform_(RegisterParameter("q_proj_weight", Parameter(Tensor.Empty(new[] { embedDim, embedDim }, dtype)))!);
            Init.XavierUniform_(RegisterParameter("k_proj_weight", Parameter(Tensor.Empty(new[] { embedDim, KDim }, dtype)))!);
            Init.XavierUniform_(RegisterParameter("v_proj_weight", Parameter(Tensor.Empty(new[] { embedDim, VDim }, dtype)))!);
        }
        RegisterParameter("in_proj_bias", bias ? Parameter(Tensor.Zeros(new[] { 3 * embedDim }, dtype)) : null);
        if (addBiasKv)
        {
            Init.XavierNormal_(RegisterParameter("bias_k", Parameter(Tensor.Empty(new[] { 1, 1, embedDim }, dtype)))!);
            Init.XavierNormal_(RegisterParameter("bias_v", Parameter(Tensor.Empty(new[] { 1, 1, embedDim }, dtype)))!);
        }
        AddZeroAttn = addZeroAttn;
        var outProj = RegisterModule("out_proj", new NonDynamicallyQuantizableLinear(embedDim, embedDim, bias, dtype));
        if (outProj.Bias is { } ob) Init.Zeros_(ob);
    }

    /// <summary>Model width E.</summary>
    public int EmbedDim { get; }
    /// <summary>Heads.</summary>
    public int NumHeads { get; }
    /// <summary>Key width.</summary>
    public int KDim { get; }
    /// <summary>Value width.</summary>
    public int VDim { get; }
    /// <summary>Dropout on attention weights in training.</summary>
    public double Dropout { get; }
    /// <summary>True for [N, L, E] inputs.</summary>
    public bool BatchFirst { get; }
    /// <summary>Whether a zero key and value are appended to every sequence (<c>add_zero_attn</c>).</summary>
    public bool AddZeroAttn { get; }
    bool SameEmbedDim { get; }
    /// <summary>The output projection.</summary>
    public Linear OutProj => (Linear)Member("out_proj")!;
    /// <summary>The packed q, k, v projection [3E, E] (<c>in_proj_weight</c>); null when key or value widths differ from E.</summary>
    public Tensor? InProjWeight => TensorMember("in_proj_weight");
    /// <summary>The packed q, k, v bias [3E] (<c>in_proj_bias</c>), or null.</summary>
    public Tensor? InProjBias => TensorMember("in_proj_bias");
    /// <summary>Whether learned bias_k/bias_v rows are appended to keys and values.</summary>
    public bool AddBiasKv => TensorMember("bias_k") is not null;

    /// <summary>
    /// Attends <paramref name="query"/> to <paramref name="key"/>/<paramref name="value"/>. Bool masks mark positions to ignore.
    /// Returns the output and, when <paramref name="needWeights"/>, the attention weights (averaged over heads unless
    /// <paramref name="averageAttnWeights"/> is false).
    /// </summary>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null, bool needWeights = true,
        Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false)
    {
        using var scope = Tensor.Scope();   // views, projections and per-head tensors go when it returns
        bool unbatched = query.Dim == 2;
        Compiler.Shapes.LayerRules.AttentionQuery(query.ShapeArray, EmbedDim);
        Tensor q = query, k = key, v = value;
        var kp = keyPaddingMask;
        if (unbatched) { q = q.Unsqueeze(0); k = k.Unsqueeze(0); v = v.Unsqueeze(0); kp = kp?.Unsqueeze(0); }
        else if (!BatchFirst) { q = q.Transpose(0, 1); k = k.Transpose(0, 1); v = v.Transpose(0, 1); }
        var b = TensorMember("in_proj_bias");
        if (SameEmbedDim && ReferenceEquals(query, key) && ReferenceEquals(key, value))
        {
            // Self-attention: one GEMM for q, k and v together, as PyTorch does.
            var qkv = F.Linear(q, TensorMember("in_proj_weight")!, b);
            var (o, wts) = F.AttendProjected(qkv.Narrow(2, 0, EmbedDim), qkv.Narrow(2, EmbedDim, EmbedDim), qkv.Narrow(2, 2 * EmbedDim, EmbedDim), NumHeads,
                OutProj.Weight, OutProj.Bias, kp, needWeights, attnMask, averageAttnWeights, Dropout, Training, isCausal, null,
                TensorMember("bias_k"), TensorMember("bias_v"), AddZeroAttn);
            return Finish(scope, o, wts, unbatched);
        }
        Tensor wq, wk, wv;
        if (SameEmbedDim)
        {
            var w = TensorMember("in_proj_weight")!;
            wq = w.Narrow(0, 0, EmbedDim); wk = w.Narrow(0, EmbedDim, EmbedDim); wv = w.Narrow(0, 2 * EmbedDim, EmbedDim);
        }
        else { wq = TensorMember("q_proj_weight")!; wk = TensorMember("k_proj_weight")!; wv = TensorMember("v_proj_weight")!; }
        var (output, weights) = F.MultiHeadAttention(q, k, v, NumHeads, wq, wk, wv,
            b?.Narrow(0, 0, EmbedDim), b?.Narrow(0, EmbedDim, EmbedDim), b?.Narrow(0, 2 * EmbedDim, EmbedDim),
            OutProj.Weight, OutProj.Bias, kp, needWeights, attnMask, averageAttnWeights, Dropout, Training, isCausal, null,
            TensorMember("bias_k"), TensorMember("bias_v"), AddZeroAttn);
        return Finish(scope, output, weights, unbatched);
    }

    (Tensor, Tensor?) Finish(TensorScope scope, Tensor output, Tensor? weights, bool unbatched)
    {
        var result = unbatched ? (output.Squeeze(0), weights?.Squeeze(0)) : (BatchFirst ? output : output.Transpose(0, 1), weights);
        scope.KeepAll(result.Item1, result.Item2);
        return result;
    }
}
