using System;
using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>How a Transformer layer's feed-forward activation is chosen: "relu", "gelu", or a module.</summary>
internal static class FeedForwardActivation
{
    public static Func<Tensor, Tensor> Resolve(string name) => name switch
    {
        "relu" => F.Relu,
        "gelu" => x => F.Gelu(x),
        _ => throw new KilnException("Transformer", $"Transformer: activation should be relu/gelu, not {name}"),
    };
}

/// <summary>
/// Self-attention then a feed-forward block, each with a residual and LayerNorm (<c>nn.TransformerEncoderLayer</c>);
/// <c>normFirst</c> normalises before each block instead of after.
/// </summary>
[ComposedLayer]
public sealed partial class TransformerEncoderLayer : Module<Tensor, Tensor>
{

    /// <summary>An encoder layer of width <paramref name="dModel"/> with <paramref name="nhead"/> heads.</summary>
    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, DType dtype = DType.Float32)
    {
        FeedForwardActivation.Resolve(activation);   // refuses names other than relu and gelu here, not at the first Forward
        Activation = activation;
        DModel = dModel; NHead = nhead; DimFeedforward = dimFeedforward; DropoutP = dropout; LayerNormEps = layerNormEps; BatchFirst = batchFirst; NormFirst = normFirst;
        RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, batchFirst: batchFirst, dtype: dtype));
        RegisterModule("linear1", new Linear(dModel, dimFeedforward, dtype: dtype));
        RegisterModule("dropout", new Dropout(dropout));
        RegisterModule("linear2", new Linear(dimFeedforward, dModel, dtype: dtype));
        RegisterModule("norm1", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        RegisterModule("norm2", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        RegisterModule("dropout1", new Dropout(dropout));
        RegisterModule("dropout2", new Dropout(dropout));
    }

    /// <summary>Model width.</summary>
    public int DModel { get; }
    /// <summary>Attention heads.</summary>
    public int NHead { get; }
    /// <summary>Feed-forward width.</summary>
    public int DimFeedforward { get; }
    /// <summary>Dropout probability.</summary>
    public double DropoutP { get; }
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; }
    /// <summary>True for [N, L, E] inputs.</summary>
    public bool BatchFirst { get; }
    /// <summary>Pre-norm (true) or post-norm (false).</summary>
    public bool NormFirst { get; }
    /// <summary>The self-attention block.</summary>
    public MultiheadAttention SelfAttn => (MultiheadAttention)Member("self_attn")!;
    /// <summary>The feed-forward block's first projection (<c>linear1</c>).</summary>
    public Linear Linear1 => (Linear)Member("linear1")!;
    /// <summary>The feed-forward block's second projection (<c>linear2</c>).</summary>
    public Linear Linear2 => (Linear)Member("linear2")!;
    /// <summary>The LayerNorm of the attention block (<c>norm1</c>).</summary>
    public LayerNorm Norm1 => (LayerNorm)Member("norm1")!;
    /// <summary>The LayerNorm of the feed-forward block (<c>norm2</c>).</summary>
    public LayerNorm Norm2 => (LayerNorm)Member("norm2")!;
    /// <summary>The dropout inside the feed-forward block (<c>dropout</c>).</summary>
    public Dropout FeedForwardDropout => (Dropout)Member("dropout")!;
    /// <summary>The dropout on the attention block's output (<c>dropout1</c>).</summary>
    public Dropout Dropout1 => (Dropout)Member("dropout1")!;
    /// <summary>The dropout on the feed-forward block's output (<c>dropout2</c>).</summary>
    public Dropout Dropout2 => (Dropout)Member("dropout2")!;
    /// <summary>The feed-forward activation's name ("relu" or "gelu").</summary>
    public string Activation { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor src) => Forward(src, null, null, false);

    /// <summary>Runs the layer; bool masks mark positions to ignore.</summary>
    public Tensor Forward(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask, bool isCausal = false)
    {
        using var scope = Tensor.Scope();
        var x = src;
        if (NormFirst)
        {
            x = x + SelfAttention(Norm1.Call(x), srcMask, srcKeyPaddingMask, isCausal);
            x = x + FeedForward(Norm2.Call(x));
        }
        else
        {
            x = Norm1.Call(x + SelfAttention(x, srcMask, srcKeyPaddingMask, isCausal));
            x = Norm2.Call(x + FeedForward(x));
        }
        return scope.Keep(x);
    }

    Tensor SelfAttention(Tensor x, Tensor? mask, Tensor? keyPadding, bool causal) =>
        Dropout1.Call(SelfAttn.Forward(x, x, x, keyPadding, needWeights: false, attnMask: mask, isCausal: causal && mask is null).Output);

    Tensor FeedForward(Tensor x) => Dropout2.Call(Linear2.Call(FeedForwardDropout.Call(Activate(Linear1.Call(x)))));

    // A branch on a setting rather than a delegate: the [Model] generator reads this Forward, and resolves the branch
    // from the layer's creation.
    Tensor Activate(Tensor h) => Activation == "gelu" ? F.Gelu(h) : F.Relu(h);

    /// <summary>A new layer with the same settings and a copy of this one's weights (PyTorch deep-copies the layer it stacks).</summary>
    public TransformerEncoderLayer Clone()
    {
        var c = new TransformerEncoderLayer(DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst, SelfAttn.OutProj.Weight.DType);
        c.LoadStateDict(StateDict());
        if (!Training) c.Eval();
        return c;
    }
}

/// <summary>Self-attention, cross-attention over the encoder's memory, then feed-forward (<c>nn.TransformerDecoderLayer</c>).</summary>
public sealed class TransformerDecoderLayer : Module
{
    readonly Func<Tensor, Tensor> _activation;
    readonly string _activationName;

    /// <summary>A decoder layer of width <paramref name="dModel"/> with <paramref name="nhead"/> heads.</summary>
    public TransformerDecoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, DType dtype = DType.Float32)
    {
        _activation = FeedForwardActivation.Resolve(activation);
        _activationName = activation;
        DModel = dModel; NHead = nhead; DimFeedforward = dimFeedforward; DropoutP = dropout; LayerNormEps = layerNormEps; BatchFirst = batchFirst; NormFirst = normFirst;
        RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, batchFirst: batchFirst, dtype: dtype));
        RegisterModule("multihead_attn", new MultiheadAttention(dModel, nhead, dropout, batchFirst: batchFirst, dtype: dtype));
        RegisterModule("linear1", new Linear(dModel, dimFeedforward, dtype: dtype));
        RegisterModule("dropout", new Dropout(dropout));
        RegisterModule("linear2", new Linear(dimFeedforward, dModel, dtype: dtype));
        RegisterModule("norm1", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        RegisterModule("norm2", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        RegisterModule("norm3", new LayerNorm(dModel, layerNormEps, dtype: dtype));
        RegisterModule("dropout1", new Dropout(dropout));
        RegisterModule("dropout2", new Dropout(dropout));
        RegisterModule("dropout3", new Dropout(dropout));
    }

    /// <summary>Model width.</summary>
    public int DModel { get; }
    /// <summary>Attention heads.</summary>
    public int NHead { get; }
    /// <summary>Feed-forward width.</summary>
    public int DimFeedforward { get; }
    /// <summary>Dropout probability.</summary>
    public double DropoutP { get; }
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; }
    /// <summary>True for [N, L, E] inputs.</summary>
    public bool BatchFirst { get; }
    /// <summary>Pre-norm (true) or post-norm (false).</summary>
    public bool NormFirst { get; }
    Module<Tensor, Tensor> M(string name) => (Module<Tensor, Tensor>)Member(name)!;
    MultiheadAttention A(string name) => (MultiheadAttention)Member(name)!;

    /// <summary>Runs the layer on <paramref name="tgt"/> attending to <paramref name="memory"/>; bool masks mark positions to ignore.</summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false)
    {
        using var scope = Tensor.Scope();
        var x = tgt;
        if (NormFirst)
        {
            x = x + SelfBlock(M("norm1").Call(x), tgtMask, tgtKeyPaddingMask, tgtIsCausal);
            x = x + CrossBlock(M("norm2").Call(x), memory, memoryMask, memoryKeyPaddingMask);
            x = x + FeedForward(M("norm3").Call(x));
        }
        else
        {
            x = M("norm1").Call(x + SelfBlock(x, tgtMask, tgtKeyPaddingMask, tgtIsCausal));
            x = M("norm2").Call(x + CrossBlock(x, memory, memoryMask, memoryKeyPaddingMask));
            x = M("norm3").Call(x + FeedForward(x));
        }
        return scope.Keep(x);
    }

    Tensor SelfBlock(Tensor x, Tensor? mask, Tensor? keyPadding, bool causal) =>
        M("dropout1").Call(A("self_attn").Forward(x, x, x, keyPadding, needWeights: false, attnMask: mask, isCausal: causal && mask is null).Output);

    Tensor CrossBlock(Tensor x, Tensor mem, Tensor? mask, Tensor? keyPadding) =>
        M("dropout2").Call(A("multihead_attn").Forward(x, mem, mem, keyPadding, needWeights: false, attnMask: mask).Output);

    Tensor FeedForward(Tensor x) => M("dropout3").Call(M("linear2").Call(M("dropout").Call(_activation(M("linear1").Call(x)))));

    /// <summary>A new layer with the same settings and a copy of this one's weights.</summary>
    public TransformerDecoderLayer Clone()
    {
        var c = new TransformerDecoderLayer(DModel, NHead, DimFeedforward, DropoutP, _activationName, LayerNormEps, BatchFirst, NormFirst, A("self_attn").OutProj.Weight.DType);
        c.LoadStateDict(StateDict());
        if (!Training) c.Eval();
        return c;
    }
}

/// <summary>A stack of <see cref="TransformerEncoderLayer"/>s with an optional final norm (<c>nn.TransformerEncoder</c>).</summary>
public sealed class TransformerEncoder : Module<Tensor, Tensor>
{
    /// <summary>Stacks <paramref name="numLayers"/> copies of <paramref name="encoderLayer"/> (same initial weights, as PyTorch's deep copy).</summary>
    public TransformerEncoder(TransformerEncoderLayer encoderLayer, int numLayers, Module<Tensor, Tensor>? norm = null)
    {
        if (numLayers <= 0) throw new KilnException("TransformerEncoder", $"TransformerEncoder: num_layers must be positive, got {numLayers}");
        var layers = new List<TransformerEncoderLayer>();
        for (int i = 0; i < numLayers; i++) layers.Add(encoderLayer.Clone());
        Layers = RegisterModule("layers", new ModuleList<TransformerEncoderLayer>(layers));
        RegisterModule("norm", norm);
        NumLayers = numLayers;
    }

    /// <summary>The layers.</summary>
    public ModuleList<TransformerEncoderLayer> Layers { get; }
    /// <summary>Number of layers.</summary>
    public int NumLayers { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor src) => Forward(src, null, null);

    /// <summary>Runs every layer, then the norm.</summary>
    public Tensor Forward(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask, bool isCausal = false)
    {
        using var scope = Tensor.Scope();
        var x = src;
        foreach (var layer in Layers) x = layer.Forward(x, mask, srcKeyPaddingMask, isCausal);
        return scope.Keep(Member("norm") is Module<Tensor, Tensor> norm ? norm.Call(x) : x);
    }
}

/// <summary>A stack of <see cref="TransformerDecoderLayer"/>s with an optional final norm (<c>nn.TransformerDecoder</c>).</summary>
public sealed class TransformerDecoder : Module
{
    /// <summary>Stacks <paramref name="numLayers"/> copies of <paramref name="decoderLayer"/>.</summary>
    public TransformerDecoder(TransformerDecoderLayer decoderLayer, int numLayers, Module<Tensor, Tensor>? norm = null)
    {
        if (numLayers <= 0) throw new KilnException("TransformerDecoder", $"TransformerDecoder: num_layers must be positive, got {numLayers}");
        var layers = new List<TransformerDecoderLayer>();
        for (int i = 0; i < numLayers; i++) layers.Add(decoderLayer.Clone());
        Layers = RegisterModule("layers", new ModuleList<TransformerDecoderLayer>(layers));
        RegisterModule("norm", norm);
        NumLayers = numLayers;
    }

    /// <summary>The layers.</summary>
    public ModuleList<TransformerDecoderLayer> Layers { get; }
    /// <summary>Number of layers.</summary>
    public int NumLayers { get; }

    /// <summary>Runs every layer against <paramref name="memory"/>, then the norm.</summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false)
    {
        using var scope = Tensor.Scope();
        var x = tgt;
        foreach (var layer in Layers) x = layer.Forward(x, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal);
        return scope.Keep(Member("norm") is Module<Tensor, Tensor> norm ? norm.Call(x) : x);
    }
}

/// <summary>
/// The full encoder-decoder Transformer (<c>nn.Transformer</c>): an encoder stack and a decoder stack, each with a final
/// LayerNorm, weights of rank 2 and above initialised Xavier-uniform as in PyTorch; PyTorch's state-dict keys
/// (<c>encoder.layers.0.self_attn.in_proj_weight</c>, <c>decoder.norm.weight</c>, ...).
/// </summary>
public sealed class Transformer : Module
{
    /// <summary>A Transformer of width <paramref name="dModel"/> with PyTorch's defaults.</summary>
    public Transformer(int dModel = 512, int nhead = 8, int numEncoderLayers = 6, int numDecoderLayers = 6, int dimFeedforward = 2048, double dropout = 0.1,
        string activation = "relu", double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, DType dtype = DType.Float32)
    {
        DModel = dModel; NHead = nhead; BatchFirst = batchFirst;
        var encoderLayer = new TransformerEncoderLayer(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, dtype);
        var decoderLayer = new TransformerDecoderLayer(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, dtype);
        Encoder = RegisterModule("encoder", new TransformerEncoder(encoderLayer, numEncoderLayers, new LayerNorm(dModel, layerNormEps, dtype: dtype)));
        Decoder = RegisterModule("decoder", new TransformerDecoder(decoderLayer, numDecoderLayers, new LayerNorm(dModel, layerNormEps, dtype: dtype)));
        foreach (var p in Parameters())
            if (p.Dim > 1) Init.XavierUniform_(p);
    }

    /// <summary>Model width.</summary>
    public int DModel { get; }
    /// <summary>Attention heads.</summary>
    public int NHead { get; }
    /// <summary>True for [N, L, E] inputs.</summary>
    public bool BatchFirst { get; }
    /// <summary>The encoder stack.</summary>
    public TransformerEncoder Encoder { get; }
    /// <summary>The decoder stack.</summary>
    public TransformerDecoder Decoder { get; }

    /// <summary>Encodes <paramref name="src"/> and decodes <paramref name="tgt"/> against it (masks as in PyTorch: float, added, or bool, true = masked).</summary>
    public Tensor Forward(Tensor src, Tensor tgt, Tensor? srcMask = null, Tensor? tgtMask = null, Tensor? memoryMask = null,
        Tensor? srcKeyPaddingMask = null, Tensor? tgtKeyPaddingMask = null, Tensor? memoryKeyPaddingMask = null)
    {
        using var scope = Tensor.Scope();
        const string op = "Transformer";
        bool batched = src.Dim == 3;
        if (src.Dim != tgt.Dim) throw new KilnException(op, $"{op}: src and tgt must have the same rank, got {ShapeText(src)} and {ShapeText(tgt)}", KilnErrorKind.Shape);
        if (batched && src.Size(BatchFirst ? 0 : 1) != tgt.Size(BatchFirst ? 0 : 1))
            throw new KilnException(op, $"{op}: the batch number of src and tgt must be equal ({ShapeText(src)} and {ShapeText(tgt)})", KilnErrorKind.Shape);
        if (src.Size(-1) != DModel || tgt.Size(-1) != DModel)
            throw new KilnException(op, $"{op}: the feature number of src and tgt must be equal to d_model={DModel} ({ShapeText(src)} and {ShapeText(tgt)})", KilnErrorKind.Shape);
        var memory = Encoder.Forward(src, srcMask, srcKeyPaddingMask);
        return scope.Keep(Decoder.Forward(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask));
    }

    static string ShapeText(Tensor t) => Compiler.Shapes.ShapeText.Format(t.ShapeArray);

    /// <summary>The causal mask for <paramref name="size"/> positions: 0 on and below the diagonal, -∞ above (<c>generate_square_subsequent_mask</c>).</summary>
    public static Tensor GenerateSquareSubsequentMask(int size, DType dtype = DType.Float32)
    {
        using var full = Tensor.Full([size, size], double.NegativeInfinity, dtype);
        return full.Triu(1);
    }
}
