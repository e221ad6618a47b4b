using System.Collections.Generic;
using Kiln.Compilation;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>GPT-2 with its language-model head (Hugging Face's <c>GPT2LMHeadModel</c>): <c>transformer.</c> and the head tied to <c>wte</c> (or <c>lm_head</c> when untied).</summary>
public sealed class GPT2LMHeadModel : CausalLanguageModel, IGradientCheckpointing
{
    /// <summary>A model of <paramref name="config"/>'s sizes (random weights until loaded).</summary>
    public GPT2LMHeadModel(GPT2Config config)
    {
        Config = config;
        Transformer = RegisterModule("transformer", new GPT2Model(config));
        if (!config.TieWordEmbeddings) RegisterModule("lm_head", new Linear(config.NEmbd, config.VocabSize, bias: false));
        HfInit.Apply(this, config.InitializerRange);
    }

    /// <summary>The config the model was built from.</summary>
    public GPT2Config Config { get; }
    /// <summary>The decoder stack.</summary>
    public GPT2Model Transformer { get; }

    /// <inheritdoc/>
    public bool GradientCheckpointing { get => Transformer.GradientCheckpointing; set => Transformer.GradientCheckpointing = value; }
    /// <summary>Runs each block by its generated kernels (<see cref="GPT2Model.Compile"/>).</summary>
    public override void Compile(CompileMode mode = CompileMode.Default) => Transformer.Compile(mode);

    /// <inheritdoc/>
    public override bool IsCompiled => Transformer.IsCompiled;

    /// <inheritdoc/>
    protected override System.Text.Json.Nodes.JsonObject ConfigToJson() => Config.ToJson();

    /// <summary>The untied head, or null.</summary>
    public Linear? LmHead => Member("lm_head") as Linear;

    /// <inheritdoc/>
    protected override Tensor Body(Tensor inputIds, Tensor? attentionMask, List<Tensor>? hiddenStates) => Transformer.Forward(inputIds, attentionMask, hiddenStates);

    /// <inheritdoc/>
    protected override Tensor Body(Tensor inputIds, KvCache cache, Tensor? attentionMask) => Transformer.Forward(inputIds, cache, attentionMask);

    /// <inheritdoc/>
    protected override Tensor BodyEmbeds(Tensor inputsEmbeds, Tensor? attentionMask, List<Tensor>? hiddenStates) => Transformer.ForwardEmbeds(inputsEmbeds, attentionMask, hiddenStates);

    /// <inheritdoc/>
    protected override Tensor BodyEmbeds(Tensor inputsEmbeds, KvCache cache, Tensor? attentionMask) => Transformer.ForwardEmbeds(inputsEmbeds, cache, attentionMask);

    /// <inheritdoc/>
    public override Embedding InputEmbeddings => Transformer.Wte;

    /// <inheritdoc/>
    public override KvCache CreateCache(int batch, int maxLength) =>
        new StaticKvCache(Config.NLayer, batch, Config.NHead, maxLength, Config.HeadDim, Transformer.Wte.Weight.DType, Transformer.Wte.Weight.Device);

    /// <inheritdoc/>
    public override PagedKvCache CreatePagedCache(int blockCount, int blockSize = 16) =>
        new(Config.NLayer, Config.NHead, Config.HeadDim, blockCount, blockSize);

    /// <inheritdoc/>
    protected override Tensor Head(Tensor h) => LmHead is { } head ? head.Forward(h) : F.Linear(h, Transformer.Wte.Weight);
}
