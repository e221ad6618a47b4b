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
    Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null);
}
