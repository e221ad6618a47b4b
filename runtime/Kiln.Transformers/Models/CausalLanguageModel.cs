using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// What every decoder-only model shares: a body giving the last hidden state (whole sequence, or new tokens after a KV
/// cache) and a head over it; the two <see cref="ICausalLM"/> forwards — <c>logitsToKeep</c> included — are written once here.
/// Each compiles its repeated block (<see cref="IBlockCompilation"/>): <c>model.Compile()</c> as in PyTorch, no cast.
/// </summary>
public abstract class CausalLanguageModel : Module, ICausalLM, IBlockCompilation
{
    /// <inheritdoc/>
    public abstract void Compile(Kiln.Compilation.CompileMode mode = Kiln.Compilation.CompileMode.Default);

    /// <inheritdoc/>
    public abstract bool IsCompiled { get; }

    /// <inheritdoc/>
    public GenerationConfig GenerationConfig { get; set; } = new();

    /// <summary>config.json as transformers writes it for this model.</summary>
    protected abstract System.Text.Json.Nodes.JsonObject ConfigToJson();

    /// <summary>
    /// Writes this model as a Hugging Face folder (<c>save_pretrained</c>: config.json + model.safetensors with HF's key
    /// names, quantized layers in bitsandbytes' layout, and generation_config.json) that
    /// <see cref="AutoModelForCausalLM.FromPretrained"/> and transformers load.
    /// </summary>
    public void SavePretrained(string directory) => PretrainedWeights.Save(this, ConfigToJson(), directory, GenerationConfig.ToJson());

    /// <summary>The last hidden state of a whole sequence (see <see cref="ICausalLM.Forward(Tensor, Tensor?, List{Tensor}?)"/>).</summary>
    protected abstract Tensor Body(Tensor inputIds, Tensor? attentionMask, List<Tensor>? hiddenStates);

    /// <summary>The last hidden state of the tokens after <paramref name="cache"/>'s.</summary>
    protected abstract Tensor Body(Tensor inputIds, KvCache cache, Tensor? attentionMask);

    /// <summary>The last hidden state from token embeddings (HF's <c>inputs_embeds</c>), whole sequence.</summary>
    protected abstract Tensor BodyEmbeds(Tensor inputsEmbeds, Tensor? attentionMask, List<Tensor>? hiddenStates);

    /// <summary>The last hidden state from the embeddings of the tokens after <paramref name="cache"/>'s.</summary>
    protected abstract Tensor BodyEmbeds(Tensor inputsEmbeds, KvCache cache, Tensor? attentionMask);

    /// <summary>Logits of hidden states.</summary>
    protected abstract Tensor Head(Tensor hidden);

    /// <summary>The token embedding table (<c>get_input_embeddings()</c>).</summary>
    public abstract Embedding InputEmbeddings { get; }

    /// <summary>Logits [batch, length, vocab] from token embeddings [batch, length, hidden] instead of ids (<c>model(inputs_embeds=...)</c>): how prompt tuning puts virtual tokens in front.</summary>
    // Forward(ids, null) means "no mask", as model(input_ids, None) does: not an ambiguity with the cached overload.
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public Tensor ForwardEmbeds(Tensor inputsEmbeds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null) =>
        Head(BodyEmbeds(inputsEmbeds, attentionMask, hiddenStates));

    /// <summary>The incremental forward from embeddings of the new tokens (see <see cref="Forward(Tensor, KvCache, Tensor?, int)"/>).</summary>
    public Tensor ForwardEmbeds(Tensor inputsEmbeds, KvCache cache, Tensor? attentionMask = null, int logitsToKeep = 0)
    {
        // A decoding step's activations, tables and masks go when it returns (the cache keeps its own tensors).
        using var scope = Tensor.Scope();
        var h = BodyEmbeds(inputsEmbeds, cache, attentionMask);
        int n = h.Size(1);
        return scope.Keep(Head(logitsToKeep > 0 && logitsToKeep < n ? h.Narrow(1, n - logitsToKeep, logitsToKeep) : h));
    }

    /// <inheritdoc/>
    public abstract KvCache CreateCache(int batch, int maxLength);

    /// <inheritdoc/>
    public abstract PagedKvCache CreatePagedCache(int blockCount, int blockSize = 16);

    /// <inheritdoc/>
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null) =>
        Head(Body(inputIds, attentionMask, hiddenStates));

    /// <inheritdoc/>
    public Tensor Forward(Tensor inputIds, KvCache cache, Tensor? attentionMask = null, int logitsToKeep = 0)
    {
        // A decoding step's activations, tables and masks go when it returns (the cache keeps its own tensors).
        using var scope = Tensor.Scope();
        var h = Body(inputIds, cache, attentionMask);
        int n = h.Size(1);
        return scope.Keep(Head(logitsToKeep > 0 && logitsToKeep < n ? h.Narrow(1, n - logitsToKeep, logitsToKeep) : h));
    }
}
