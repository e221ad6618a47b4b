using System.Collections.Generic;
using Kiln.Compilation;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// A Llama-family causal language model (Hugging Face's <c>LlamaForCausalLM</c>): <see cref="LlamaModel"/> under
/// <c>model.</c> and an output head <c>lm_head</c>, or the token embedding reused when the config ties them.
/// </summary>
public class LlamaForCausalLM : CausalLanguageModel, IGradientCheckpointing
{
    /// <summary>A model of <paramref name="config"/>'s sizes (random weights until loaded).</summary>
    public LlamaForCausalLM(LlamaConfig config)
    {
        Config = config;
        Model = RegisterModule("model", new LlamaModel(config));
        if (!config.TieWordEmbeddings) RegisterModule("lm_head", new Linear(config.HiddenSize, config.VocabSize, bias: false));
        HfInit.Apply(this, config.InitializerRange);
    }

    /// <summary>The config the model was built from.</summary>
    public LlamaConfig Config { get; }
    /// <summary>The decoder stack.</summary>
    public LlamaModel Model { get; }

    /// <inheritdoc/>
    public bool GradientCheckpointing { get => Model.GradientCheckpointing; set => Model.GradientCheckpointing = value; }
    /// <summary>
    /// Runs each decoder block by its generated kernels (<see cref="LlamaModel.Compile"/>): training steps, evaluation and
    /// prefills without a cache in float32; generation's cached steps stay eager.
    /// </summary>
    public override void Compile(CompileMode mode = CompileMode.Default) => Model.Compile(mode);

    /// <inheritdoc/>
    public override bool IsCompiled => Model.IsCompiled;

    /// <summary>The output head; null when tied to the token embedding.</summary>
    public Linear? LmHead => Member("lm_head") as Linear;

    /// <inheritdoc/>
    protected override Tensor Body(Tensor inputIds, Tensor? attentionMask, List<Tensor>? hiddenStates) => Model.Forward(inputIds, attentionMask, hiddenStates);

    /// <inheritdoc/>
    protected override Tensor Body(Tensor inputIds, KvCache cache, Tensor? attentionMask) => Model.Forward(inputIds, cache, attentionMask);

    /// <inheritdoc/>
    protected override Tensor BodyEmbeds(Tensor inputsEmbeds, Tensor? attentionMask, List<Tensor>? hiddenStates) => Model.ForwardEmbeds(inputsEmbeds, attentionMask, hiddenStates);

    /// <inheritdoc/>
    protected override Tensor BodyEmbeds(Tensor inputsEmbeds, KvCache cache, Tensor? attentionMask) => Model.ForwardEmbeds(inputsEmbeds, cache, attentionMask);

    /// <inheritdoc/>
    public override Embedding InputEmbeddings => Model.EmbedTokens;

    /// <inheritdoc/>
    protected override System.Text.Json.Nodes.JsonObject ConfigToJson() => Config.ToJson();

    /// <inheritdoc/>
    public override KvCache CreateCache(int batch, int maxLength) =>
        new StaticKvCache(Config.NumHiddenLayers, batch, Config.NumKeyValueHeads, maxLength, Config.HeadDim, Model.EmbedTokens.Weight.DType, Model.EmbedTokens.Weight.Device);

    /// <inheritdoc/>
    public override PagedKvCache CreatePagedCache(int blockCount, int blockSize = 16)
    {
        int?[]? windows = null;
        if (Config.SlidingLayers is { } sliding)
        {
            windows = new int?[sliding.Length];
            for (int l = 0; l < sliding.Length; l++) windows[l] = sliding[l] ? Config.SlidingWindow : null;
        }
        return new PagedKvCache(Config.NumHiddenLayers, Config.NumKeyValueHeads, Config.HeadDim, blockCount, blockSize, windows);
    }

    /// <inheritdoc/>
    protected override Tensor Head(Tensor h) => LmHead is { } head ? head.Forward(h) : F.Linear(h, Model.EmbedTokens.Weight);
}
