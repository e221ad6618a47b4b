using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln.IO;
using Kiln.NN;
using Kiln.Transformers;

namespace Kiln.Peft;

/// <summary>
/// A causal language model with learned virtual tokens (PEFT's <c>PeftModelForCausalLM</c> with a prompt-learning
/// config). Prompt tuning and P-tuning put the virtual tokens' embeddings before the input's (the logits then cover them
/// too, as PEFT returns them); prefix tuning gives every layer keys and values for them, as a KV cache the input attends
/// to. The base model is frozen; only <see cref="PromptEncoder"/> trains. It is an <see cref="ICausalLM"/>, so
/// <c>Generate</c> and the <c>Trainer</c> take it as they take the base model.
/// </summary>
public sealed class PromptLearningModel : Module, ICausalLM
{
    /// <summary>Wraps <paramref name="model"/> with <paramref name="encoder"/>'s virtual tokens; the base is frozen.</summary>
    public PromptLearningModel(CausalLanguageModel model, PromptLearningConfig config, PromptEncoder encoder)
    {
        Model = RegisterModule("base_model", model);
        Config = config;
        RegisterModule("prompt_encoder", encoder);
        foreach (var p in model.Parameters()) p.RequiresGrad_(false);
        foreach (var p in encoder.Parameters()) p.RequiresGrad_(!config.InferenceMode);
    }

    /// <summary>The base model.</summary>
    public CausalLanguageModel Model { get; }
    /// <summary>The base model's generation defaults.</summary>
    public GenerationConfig GenerationConfig => Model.GenerationConfig;
    /// <summary>The settings, sizes filled in.</summary>
    public PromptLearningConfig Config { get; }
    /// <summary>What makes the virtual tokens.</summary>
    public PromptEncoder PromptEncoder => Child<PromptEncoder>("prompt_encoder");
    int Virtual => Config.NumVirtualTokens;
    bool Prefix => Config.PeftType == PromptLearningType.PrefixTuning;

    /// <summary>
    /// Logits for <paramref name="inputIds"/> [batch, length]: [batch, virtual + length, vocab] for prompt tuning and
    /// P-tuning (the virtual positions first, as PEFT returns them), [batch, length, vocab] for prefix tuning.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null)
    {
        CheckIds(inputIds);
        int b = inputIds.Size(0), n = inputIds.Size(1);
        var mask = WithVirtual(attentionMask, b);
        if (Prefix)
        {
            // While training, the prefix must stay in the graph: a cache that concatenates instead of copying.
            var prompt = PromptEncoder.Prompt();
            var cache = prompt.RequiresGrad && Autograd.IsGradEnabled ? DifferentiablePrefix(b, prompt) : CreateCacheWithPrefix(b, n, prompt);
            return Model.Forward(inputIds, cache, mask);
        }
        return Model.ForwardEmbeds(WithPrompts(inputIds), mask, hiddenStates);
    }

    /// <summary>The logits of the input's own positions only ([batch, length, vocab]): what a causal LM loss compares with the labels.</summary>
    public Tensor InputLogits(Tensor inputIds, Tensor? attentionMask = null)
    {
        var logits = Forward(inputIds, attentionMask);
        return Prefix ? logits : logits.Narrow(1, Virtual, inputIds.Size(1));
    }

    /// <inheritdoc/>
    public Tensor Forward(Tensor inputIds, KvCache cache, Tensor? attentionMask = null, int logitsToKeep = 0)
    {
        CheckIds(inputIds);
        var mask = WithVirtual(attentionMask, inputIds.Size(0));
        if (!Prefix && cache.Length == 0) return Model.ForwardEmbeds(WithPrompts(inputIds), cache, mask, logitsToKeep);
        return Model.Forward(inputIds, cache, mask, logitsToKeep);
    }

    /// <inheritdoc/>
    public KvCache CreateCache(int batch, int maxLength)
    {
        if (!Prefix) return Model.CreateCache(batch, maxLength + Virtual);
        using var _ = Autograd.NoGrad();
        return CreateCacheWithPrefix(batch, maxLength, PromptEncoder.Prompt());
    }

    /// <summary>Not available: virtual tokens and prefixes are laid out for a contiguous cache (<see cref="CreateCache"/>); merge or serve the base model for paged batching.</summary>
    public PagedKvCache CreatePagedCache(int blockCount, int blockSize = 16) =>
        throw new KilnException("paged_kv_cache", $"paged_kv_cache: a {Config.PeftType} model generates with a contiguous cache (CreateCache); page the base model instead", KilnErrorKind.Argument);

    KvCache CreateCacheWithPrefix(int batch, int maxLength, Tensor prompt)
    {
        var cache = Model.CreateCache(batch, maxLength + Virtual);
        var kv = PrefixKeysValues(batch, prompt);
        for (int l = 0; l < Config.NumLayers; l++) cache.Append(l, kv.Select(0, 2 * l), kv.Select(0, 2 * l + 1));
        return cache;
    }

    KvCache DifferentiablePrefix(int batch, Tensor prompt)
    {
        var kv = PrefixKeysValues(batch, prompt);
        int layers = Config.NumLayers;
        var keys = new Tensor[layers];
        var values = new Tensor[layers];
        for (int l = 0; l < layers; l++) { keys[l] = kv.Select(0, 2 * l); values[l] = kv.Select(0, 2 * l + 1); }
        return new DynamicKvCache(keys, values);
    }

    // [virtual, layers·2·token_dim] → [layers·2, batch, heads, virtual, head_dim]: layer l's keys at 2l, values at 2l+1 (PEFT's get_prompt).
    Tensor PrefixKeysValues(int batch, Tensor prompt)
    {
        int layers = Config.NumLayers, heads = Config.NumAttentionHeads, headDim = Config.TokenDim / heads;
        return prompt.To(Model.InputEmbeddings.Weight.DType).Reshape(1, Virtual, layers * 2, heads, headDim)
            .Expand(batch, Virtual, layers * 2, heads, headDim).Permute(2, 0, 3, 1, 4);
    }

    Tensor WithPrompts(Tensor inputIds)
    {
        int b = inputIds.Size(0);
        var embeds = Model.InputEmbeddings.Forward(inputIds);
        var prompt = PromptEncoder.Prompt().To(embeds.DType);
        return Tensor.Cat([prompt.Unsqueeze(0).Expand(b, Virtual, prompt.Size(1)), embeds], 1);
    }

    Tensor? WithVirtual(Tensor? mask, int batch) =>
        mask is null ? null : Tensor.Cat([Tensor.Ones([batch, Virtual], mask.DType), mask], 1);

    static void CheckIds(Tensor ids)
    {
        if (ids.Dim != 2) throw new KilnException("prompt_learning", $"prompt learning: input_ids should be [batch, length], got [{string.Join(", ", ids.Shape)}]", KilnErrorKind.Shape);
    }

    /// <summary>Trainable and total parameter counts.</summary>
    public (long Trainable, long All) GetNbTrainableParameters()
    {
        long t = 0, a = 0;
        foreach (var p in Parameters()) { a += p.Numel; if (p.RequiresGrad) t += p.Numel; }
        return (t, a);
    }

    /// <summary>Prints and returns PEFT's trainable-parameter line.</summary>
    public string PrintTrainableParameters() => ParameterLine.Print(GetNbTrainableParameters());

    /// <summary>Writes adapter_config.json and adapter_model.safetensors (<c>prompt_embeddings</c>: the encoder's output) as PEFT does.</summary>
    public void SavePretrained(string directory)
    {
        Tensor prompt;
        using (Autograd.NoGrad()) prompt = PromptEncoder.Prompt().Detach().Contiguous();
        AdapterKeys.Write(directory, new Dictionary<string, Tensor> { ["prompt_embeddings"] = prompt }, Config.Save);
    }

    /// <summary>
    /// Loads a saved prompt-learning adapter (PEFT's files) over <paramref name="model"/>: its <c>prompt_embeddings</c> become
    /// the virtual tokens directly (PEFT saves the encoder's output, not the encoder), frozen unless <paramref name="isTrainable"/>.
    /// </summary>
    public static PromptLearningModel FromPretrained(CausalLanguageModel model, string directory, bool isTrainable = false)
    {
        var config = PromptShapes.Complete(PromptLearningConfig.FromFile(Path.Combine(directory, AdapterKeys.ConfigFile)), model) with { InferenceMode = !isTrainable };
        string weights = Path.Combine(directory, AdapterKeys.WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"prompt learning: {weights} not found (PEFT's adapter weights)", weights);
        var tensors = SafeTensors.Load(weights);
        if (!tensors.TryGetValue("prompt_embeddings", out var prompt))
            throw new KilnException("prompt_learning", $"prompt learning: {weights} has no prompt_embeddings (found: {string.Join(", ", tensors.Keys)})");
        var encoder = new PromptEncoder(config, direct: true);
        var want = encoder.Embedding.Weight.Shape.ToArray();
        if (!prompt.Shape.ToArray().SequenceEqual(want))
            throw new KilnException("prompt_learning", $"prompt learning: prompt_embeddings in {weights} has shape [{string.Join(", ", prompt.Shape)}], the config implies [{string.Join(", ", want)}]", KilnErrorKind.Shape);
        using (Autograd.NoGrad()) encoder.Embedding.Weight.Copy_(prompt.To(encoder.Embedding.Weight.DType));
        return new PromptLearningModel(model, config, encoder);
    }

    /// <summary>A new prompt-learning adapter over <paramref name="model"/> (sizes from the model; prompt tuning may start from token embeddings).</summary>
    internal static PromptLearningModel Create(CausalLanguageModel model, PromptLearningConfig config)
    {
        config = PromptShapes.Complete(config, model) with { InferenceMode = false };
        var encoder = new PromptEncoder(config);
        if (config.PeftType == PromptLearningType.PromptTuning && config.PromptTuningInitTokenIds is { Count: > 0 } ids)
        {
            var rows = Enumerable.Range(0, config.NumVirtualTokens).Select(i => ids[i % ids.Count]).ToArray();
            using var _ = Autograd.NoGrad();
            encoder.Embedding.Weight.Copy_(model.InputEmbeddings.Forward(Tensor.From(rows, rows.Length)).To(DType.Float32));
        }
        return new PromptLearningModel(model, config, encoder);
    }
}
