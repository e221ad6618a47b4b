using System.Collections.Generic;
using Kiln.Compilation;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>The Llama decoder stack: embed_tokens, layers, norm (Hugging Face's <c>LlamaModel</c>, its key names).</summary>
public sealed class LlamaModel : Module, IGradientCheckpointing, IBlockCompilation
{
    readonly RotaryEmbedding _rope;
    readonly CompiledBlocks<LlamaDecoderLayer, LlamaDecoderLayer.Compiled> _compiled = new((l, mode) => l.Compile(mode), c => c.Model);

    /// <summary>A stack of <paramref name="config"/>'s sizes (random weights until loaded).</summary>
    public LlamaModel(LlamaConfig config)
    {
        config.Validate(nameof(LlamaConfig), KilnErrorKind.Argument);
        Config = config;
        RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.HiddenSize));
        var layers = new List<LlamaDecoderLayer>();
        for (int i = 0; i < config.NumHiddenLayers; i++) layers.Add(new LlamaDecoderLayer(config));
        Layers = RegisterModule("layers", new ModuleList<LlamaDecoderLayer>(layers));
        Norm = RegisterModule("norm", new RMSNorm(config.HiddenSize, config.RmsNormEps));
        _rope = new RotaryEmbedding(config.HeadDim, config.RopeTheta, config.RopeScaling, config.MaxPositionEmbeddings);
    }

    /// <summary>The config the model was built from.</summary>
    public LlamaConfig Config { get; }
    /// <summary>The token embedding.</summary>
    public Embedding EmbedTokens => Child<Embedding>("embed_tokens");
    /// <summary>The decoder blocks.</summary>
    public ModuleList<LlamaDecoderLayer> Layers { get; }
    /// <summary>The final norm.</summary>
    public RMSNorm Norm { get; }

    /// <inheritdoc/>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// Runs each decoder block by its generated kernels from now on (PyTorch's in-place <c>module.compile()</c>, applied to
    /// the repeated block as regional compilation does): attention and feed-forward of a block are one autograd node, its
    /// GEMMs with their epilogues, SwiGLU and the residual adds fused loops. Float32 forwards without a cache use it
    /// (training, evaluation, a prefill without cache); other dtypes and the cached decode steps run eagerly, as before.
    /// </summary>
    public void Compile(CompileMode mode = CompileMode.Default) => _compiled.Compile(mode);

    /// <inheritdoc/>
    public bool IsCompiled => _compiled.IsCompiled;

    /// <summary>
    /// The last hidden state [batch, length, hidden] of <paramref name="inputIds"/> [batch, length] (int64);
    /// <paramref name="attentionMask"/> [batch, length] (1 = token, 0 = padding) masks padded keys. With
    /// <paramref name="hiddenStates"/> it also collects Hugging Face's <c>output_hidden_states</c>: the embeddings and each
    /// block's output, the last one after the final norm.
    /// </summary>
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null)
    {
        if (inputIds.Dim != 2)
            throw new KilnException("LlamaModel", $"LlamaModel: input_ids should be [batch, length], got [{string.Join(", ", inputIds.Shape)}]", KilnErrorKind.Shape);
        return ForwardEmbeds(EmbedTokens.Forward(inputIds), attentionMask, hiddenStates);
    }

    /// <summary>As <see cref="Forward(Tensor, Tensor?, List{Tensor}?)"/> from token embeddings [batch, length, hidden] (HF's <c>inputs_embeds</c>).</summary>
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public Tensor ForwardEmbeds(Tensor inputsEmbeds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null)
    {
        CheckEmbeds(inputsEmbeds);
        int b = inputsEmbeds.Size(0), s = inputsEmbeds.Size(1);
        if (attentionMask is not null && (attentionMask.Dim != 2 || attentionMask.Size(0) != b || attentionMask.Size(1) != s))
            throw new KilnException("LlamaModel", $"LlamaModel: attention_mask [{string.Join(", ", attentionMask.Shape)}] should match the input's [{b}, {s}]", KilnErrorKind.Shape);
        var h = inputsEmbeds;
        hiddenStates?.Add(h);
        var (cos, sin) = _rope.Tables(0, s, h.DType, h.Device);
        var keep = attentionMask?.To(DType.Int64).ToArray<long>();
        var mask = keep is null ? null : CausalMask.Additive(keep, b, s, 0, h.DType, h.Device);
        var slidingMask = SlidingMask(keep, b, s, 0, h.DType, h.Device);
        int i = 0;
        foreach (var layer in Layers)
        {
            var layerMask = IsSliding(i) ? slidingMask : mask;
            h = _compiled.Run(i++, layer, h, GradientCheckpointing && Training && Autograd.IsGradEnabled,
                x => layer.Forward(x, cos, sin, layerMask), (c, x) => c.Forward(x, cos, sin, layerMask));
            hiddenStates?.Add(h);
        }
        h = Norm.Forward(h);
        if (hiddenStates is not null) hiddenStates[^1] = h;
        return h;
    }

    /// <summary>
    /// The incremental forward generation runs: <paramref name="inputIds"/> [batch, n] are the tokens after the
    /// <c>cache.Length</c> positions already in <paramref name="cache"/> (their keys and values are appended);
    /// <paramref name="attentionMask"/> [batch, cache.Length + n] covers all of them (null: no padding). Positions come
    /// from the mask as Hugging Face's generate derives them (cumulative count of real tokens - 1; padding at 1), so a
    /// left-padded row starts at 0. Returns the new tokens' last hidden state [batch, n, hidden].
    /// </summary>
    public Tensor Forward(Tensor inputIds, KvCache cache, Tensor? attentionMask = null)
    {
        if (inputIds.Dim != 2)
            throw new KilnException("LlamaModel", $"LlamaModel: input_ids should be [batch, length], got [{string.Join(", ", inputIds.Shape)}]", KilnErrorKind.Shape);
        return ForwardEmbeds(EmbedTokens.Forward(inputIds), cache, attentionMask);
    }

    /// <summary>The incremental forward from token embeddings [batch, n, hidden].</summary>
    public Tensor ForwardEmbeds(Tensor inputsEmbeds, KvCache cache, Tensor? attentionMask = null)
    {
        CheckEmbeds(inputsEmbeds);
        int b = inputsEmbeds.Size(0), n = inputsEmbeds.Size(1), past = cache.Length, total = past + n;
        if (b != cache.Batch) throw new KilnException("LlamaModel", $"LlamaModel: input_ids has {b} rows, the cache {cache.Batch}", KilnErrorKind.Shape);
        if (attentionMask is not null && (attentionMask.Dim != 2 || attentionMask.Size(0) != b || attentionMask.Size(1) != total))
            throw new KilnException("LlamaModel", $"LlamaModel: attention_mask [{string.Join(", ", attentionMask.Shape)}] should be [{b}, {total}] (cached and new positions)", KilnErrorKind.Shape);
        var keep = attentionMask?.To(DType.Int64).ToArray<long>();
        var positions = cache.Positions(keep, b, n, out bool padded);
        var h = inputsEmbeds;
        var (cos, sin) = _rope.Tables(positions, b, n, h.DType, h.Device);
        // One new token and no padding attends to everything cached: no mask at all; a paged step masks in its kernel.
        bool masked = cache is not PagedBatch && (padded || n > 1);
        var mask = masked ? CausalMask.Additive(keep, b, n, past, h.DType, h.Device) : null;
        var slidingMask = cache is not PagedBatch ? SlidingMask(keep, b, n, past, h.DType, h.Device) : null;
        int i = 0;
        foreach (var layer in Layers)
        {
            h = layer.Step(h, cos, sin, IsSliding(i) ? slidingMask : mask, cache, i);
            i++;
        }
        return Norm.Forward(h);
    }

    void CheckEmbeds(Tensor e)
    {
        if (e.Dim != 3 || e.Size(2) != Config.HiddenSize)
            throw new KilnException("LlamaModel", $"LlamaModel: inputs_embeds should be [batch, length, {Config.HiddenSize}], got [{string.Join(", ", e.Shape)}]", KilnErrorKind.Shape);
    }

    bool IsSliding(int layer) => Config.SlidingLayers is { } s && s[layer];

    /// <summary>The sliding layers' mask (also hiding keys <see cref="LlamaConfig.SlidingWindow"/> or more positions back); null without sliding layers.</summary>
    Tensor? SlidingMask(long[]? keep, int b, int n, int past, DType dtype, Device device) =>
        Config.SlidingLayers is null ? null : CausalMask.Additive(keep, b, n, past, dtype, device, Config.SlidingWindow);
}
