using System.Collections.Generic;
using Kiln.Compilation;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// GPT-2's decoder stack (Hugging Face's <c>GPT2Model</c>): <c>wte</c> + <c>wpe</c> (then <c>drop</c>, <c>embd_pdrop</c>,
/// while training), blocks <c>h.N</c>, <c>ln_f</c>.
/// </summary>
public sealed class GPT2Model : Module, IGradientCheckpointing, IBlockCompilation
{
    readonly CompiledBlocks<GPT2Block, GPT2Block.Compiled> _compiled = new((block, mode) => block.Compile(mode), c => c.Model);

    /// <summary>A stack of <paramref name="config"/>'s sizes (random weights until loaded).</summary>
    public GPT2Model(GPT2Config config)
    {
        config.Validate(nameof(GPT2Config), KilnErrorKind.Argument);
        Config = config;
        RegisterModule("wte", new Embedding(config.VocabSize, config.NEmbd));
        RegisterModule("wpe", new Embedding(config.NPositions, config.NEmbd));
        RegisterModule("drop", new Dropout(config.EmbdPdrop));
        var blocks = new List<GPT2Block>();
        for (int i = 0; i < config.NLayer; i++) blocks.Add(new GPT2Block(config, i));
        H = RegisterModule("h", new ModuleList<GPT2Block>(blocks));
        LnF = RegisterModule("ln_f", new LayerNorm(config.NEmbd, config.LayerNormEpsilon));
    }

    /// <summary>The config the model was built from.</summary>
    public GPT2Config Config { get; }
    /// <summary>Token embeddings.</summary>
    public Embedding Wte => Child<Embedding>("wte");
    /// <summary>Learned position embeddings.</summary>
    public Embedding Wpe => Child<Embedding>("wpe");
    /// <summary>Dropout on the summed embeddings while training.</summary>
    public Dropout Drop => Child<Dropout>("drop");
    /// <summary>The blocks.</summary>
    public ModuleList<GPT2Block> H { get; }
    /// <summary>The final norm.</summary>
    public LayerNorm LnF { get; }

    /// <inheritdoc/>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// Runs each block by its generated kernels from now on (see <see cref="IBlockCompilation"/>): float32 forwards without
    /// a cache; other dtypes and generation's cached steps run eagerly.
    /// </summary>
    public void Compile(CompileMode mode = CompileMode.Default) => _compiled.Compile(mode);

    /// <inheritdoc/>
    public bool IsCompiled => _compiled.IsCompiled;

    /// <summary>
    /// The last hidden state of <paramref name="inputIds"/> [batch, length] at positions 0..length-1 (as Hugging Face's
    /// forward without position ids); <paramref name="attentionMask"/> hides padded keys; <paramref name="hiddenStates"/>
    /// collects the embeddings and each block's output, the last after <c>ln_f</c>.
    /// </summary>
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null)
    {
        CheckIds(inputIds);
        return ForwardEmbeds(Wte.Forward(inputIds), attentionMask, hiddenStates);
    }

    /// <summary>As <see cref="Forward(Tensor, Tensor?, List{Tensor}?)"/> from token embeddings [batch, length, n_embd] (HF's <c>inputs_embeds</c>); position embeddings are added here.</summary>
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public Tensor ForwardEmbeds(Tensor inputsEmbeds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null)
    {
        int b = CheckEmbeds(inputsEmbeds), s = inputsEmbeds.Size(1);
        CheckMask(attentionMask, b, s);
        var positions = new long[b * s];
        for (int i = 0; i < positions.Length; i++) positions[i] = i % s;
        var keep = attentionMask?.To(DType.Int64).ToArray<long>();
        var h = AddPositions(inputsEmbeds, positions, b, s);
        hiddenStates?.Add(h);
        var mask = keep is null ? null : CausalMask.Additive(keep, b, s, 0, h.DType, h.Device);
        int layer = 0;
        foreach (var block in H)
        {
            h = _compiled.Run(layer++, block, h, GradientCheckpointing && Training && Autograd.IsGradEnabled, x => block.Forward(x, mask), (c, x) => c.Forward(x, mask));
            hiddenStates?.Add(h);
        }
        h = LnF.Forward(h);
        if (hiddenStates is not null) hiddenStates[^1] = h;
        return h;
    }

    /// <summary>The incremental forward (see <see cref="ICausalLM.Forward(Tensor, KvCache, Tensor?, int)"/>): positions from the mask, as generate derives them.</summary>
    public Tensor Forward(Tensor inputIds, KvCache cache, Tensor? attentionMask = null)
    {
        CheckIds(inputIds);
        return ForwardEmbeds(Wte.Forward(inputIds), cache, attentionMask);
    }

    /// <summary>The incremental forward from token embeddings [batch, n, n_embd].</summary>
    public Tensor ForwardEmbeds(Tensor inputsEmbeds, KvCache cache, Tensor? attentionMask = null)
    {
        int b = CheckEmbeds(inputsEmbeds), n = inputsEmbeds.Size(1), past = cache.Length;
        if (b != cache.Batch) throw new KilnException("GPT2Model", $"GPT2Model: the input has {b} rows, the cache {cache.Batch}", KilnErrorKind.Shape);
        CheckMask(attentionMask, b, past + n);
        var keep = attentionMask?.To(DType.Int64).ToArray<long>();
        var positions = cache.Positions(keep, b, n, out bool padded);
        var h = AddPositions(inputsEmbeds, positions, b, n);
        // A paged step masks in its kernel.
        var mask = cache is not PagedBatch && (padded || n > 1) ? CausalMask.Additive(keep, b, n, past, h.DType, h.Device) : null;
        int layer = 0;
        foreach (var block in H) { h = block.Step(h, mask, cache, layer); layer++; }
        return LnF.Forward(h);
    }

    Tensor AddPositions(Tensor embeds, long[] positions, int b, int n)
    {
        foreach (long p in positions)
            if (p >= Config.NPositions)
                throw new KilnException("GPT2Model", $"GPT2Model: position {p} is past n_positions {Config.NPositions}", KilnErrorKind.Index);
        using var pos = Tensor.From(positions, b, n).To(embeds.Device);
        return Drop.Forward(embeds + Wpe.Forward(pos));
    }

    int CheckEmbeds(Tensor e)
    {
        if (e.Dim != 3 || e.Size(2) != Config.NEmbd)
            throw new KilnException("GPT2Model", $"GPT2Model: inputs_embeds should be [batch, length, {Config.NEmbd}], got [{string.Join(", ", e.Shape)}]", KilnErrorKind.Shape);
        return e.Size(0);
    }

    static int CheckIds(Tensor inputIds)
    {
        if (inputIds.Dim != 2)
            throw new KilnException("GPT2Model", $"GPT2Model: input_ids should be [batch, length], got [{string.Join(", ", inputIds.Shape)}]", KilnErrorKind.Shape);
        return inputIds.Size(0);
    }

    static void CheckMask(Tensor? mask, int b, int total)
    {
        if (mask is not null && (mask.Dim != 2 || mask.Size(0) != b || mask.Size(1) != total))
            throw new KilnException("GPT2Model", $"GPT2Model: attention_mask [{string.Join(", ", mask.Shape)}] should be [{b}, {total}]", KilnErrorKind.Shape);
    }
}
