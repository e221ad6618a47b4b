using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>The Llama decoder stack: embed_tokens, layers, norm (Hugging Face's <c>LlamaModel</c>, its key names).</summary>
public sealed class LlamaModel : Module
{
    readonly RotaryEmbedding _rope;

    /// <summary>A stack of <paramref name="config"/>'s sizes (random weights until loaded).</summary>
    public LlamaModel(LlamaConfig config)
    {
        Config = config;
        EmbedTokens = RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.HiddenSize));
        var layers = new List<LlamaDecoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new LlamaDecoderLayer(config));
        Layers = RegisterModule("layers", new ModuleList<LlamaDecoderLayer>(layers));
        Norm = RegisterModule("norm", new RMSNorm(config.HiddenSize, config.RmsNormEps));
        _rope = new RotaryEmbedding(config.HeadDim, config.RopeTheta, config.RopeScaling);
    }

    /// <summary>The config the model was built from.</summary>
    public LlamaConfig Config { get; }
    /// <summary>The token embedding.</summary>
    public Embedding EmbedTokens { get; }
    /// <summary>The decoder blocks.</summary>
    public ModuleList<LlamaDecoderLayer> Layers { get; }
    /// <summary>The final norm.</summary>
    public RMSNorm Norm { get; }

    /// <summary>
    /// The last hidden state [batch, length, hidden] of <paramref name="inputIds"/> [batch, length] (int64);
    /// <paramref name="attentionMask"/> [batch, length] (1 = token, 0 = padding) masks padded keys. With
    /// <paramref name="hiddenStates"/> it also collects Hugging Face's <c>output_hidden_states</c>: the embeddings and each
    /// block's output, the last one after the final norm.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null)
    {
        if (inputIds.Dim != 2)
            throw new KilnException("LlamaModel", $"LlamaModel: input_ids should be [batch, length], got [{string.Join(", ", inputIds.Shape)}]", KilnErrorKind.Shape);
        int b = inputIds.Size(0), s = inputIds.Size(1);
        if (attentionMask is not null && (attentionMask.Dim != 2 || attentionMask.Size(0) != b || attentionMask.Size(1) != s))
            throw new KilnException("LlamaModel", $"LlamaModel: attention_mask [{string.Join(", ", attentionMask.Shape)}] should match input_ids [{b}, {s}]", KilnErrorKind.Shape);
        var h = EmbedTokens.Forward(inputIds);
        hiddenStates?.Add(h);
        var (cos, sin) = _rope.Tables(0, s, h.DType);
        var mask = attentionMask is null ? null : AdditiveMask(attentionMask, s, h.DType);
        foreach (var layer in Layers)
        {
            h = layer.Forward(h, cos, sin, mask);
            hiddenStates?.Add(h);
        }
        h = Norm.Forward(h);
        if (hiddenStates is not null) hiddenStates[^1] = h;
        return h;
    }

    /// <summary>
    /// Causal and key-padding mask as one additive [batch, 1, length, length] tensor: 0 where a query may attend, the
    /// dtype's lowest value where not (as Hugging Face builds it, so a fully padded row stays finite).
    /// </summary>
    static Tensor AdditiveMask(Tensor attentionMask, int s, DType dtype)
    {
        int b = attentionMask.Size(0);
        var causal = Tensor.Ones([s, s], dtype).Tril();
        var keys = attentionMask.To(dtype).Reshape(b, 1, 1, s);
        var allowed = causal * keys;                        // [b, 1, s, s], 1 where attending
        return (1 - allowed) * float.MinValue;
    }
}
