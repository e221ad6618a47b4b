using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary>A causal language model: token ids in, next-token logits out (what <see cref="AutoModelForCausalLM"/> returns).</summary>
public interface ICausalLM
{
    /// <summary>
    /// Logits [batch, length, vocab] for <paramref name="inputIds"/> [batch, length] (int64); <paramref name="attentionMask"/>
    /// [batch, length] marks real tokens (1) and padding (0); <paramref name="hiddenStates"/>, when given, receives
    /// Hugging Face's <c>output_hidden_states</c>.
    /// </summary>
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
    Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null);

    /// <summary>
    /// Logits [batch, n, vocab] of <paramref name="inputIds"/> [batch, n], the tokens after those already in
    /// <paramref name="cache"/> (whose keys and values it appends); <paramref name="attentionMask"/> spans the cached and
    /// new positions. Prefill is one call with the whole prompt, each decode step one call with one token.
    /// <paramref name="logitsToKeep"/> &gt; 0 computes the logits of only that many last positions (HF's
    /// <c>logits_to_keep</c>: generation needs the last one, and the vocabulary-wide head is the costliest product).
    /// </summary>
    Tensor Forward(Tensor inputIds, KvCache cache, Tensor? attentionMask = null, int logitsToKeep = 0);

    /// <summary>An empty cache for <paramref name="batch"/> rows of up to <paramref name="maxLength"/> positions.</summary>
    KvCache CreateCache(int batch, int maxLength);

    /// <summary>
    /// A block pool of <paramref name="blockCount"/> × <paramref name="blockSize"/> positions shaped for this model's layers
    /// and key/value heads, for serving many sequences at once (<see cref="ContinuousBatcher"/>).
    /// </summary>
    PagedKvCache CreatePagedCache(int blockCount, int blockSize = 16);

    /// <summary>
    /// The model's generation defaults (<c>model.generation_config</c>: a loaded model's generation_config.json): what
    /// <see cref="TextGeneration.Generate"/> uses without a config, and where a config's unset EOS and pad tokens come from.
    /// </summary>
    GenerationConfig GenerationConfig { get; }
}
