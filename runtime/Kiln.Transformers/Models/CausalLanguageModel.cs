using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// What every decoder-only model shares: a body giving the last hidden state (whole sequence, or new tokens after a KV
/// cache) and a head over it; the two <see cref="ICausalLM"/> forwards — <c>logitsToKeep</c> included — are written once here.
/// </summary>
public abstract class CausalLanguageModel : Module, ICausalLM
{
    /// <summary>The last hidden state of a whole sequence (see <see cref="ICausalLM.Forward(Tensor, Tensor?, List{Tensor}?)"/>).</summary>
    protected abstract Tensor Body(Tensor inputIds, Tensor? attentionMask, List<Tensor>? hiddenStates);

    /// <summary>The last hidden state of the tokens after <paramref name="cache"/>'s.</summary>
    protected abstract Tensor Body(Tensor inputIds, KvCache cache, Tensor? attentionMask);

    /// <summary>Logits of hidden states.</summary>
    protected abstract Tensor Head(Tensor hidden);

    /// <inheritdoc/>
    public abstract KvCache CreateCache(int batch, int maxLength);

    /// <inheritdoc/>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, List<Tensor>? hiddenStates = null) =>
        Head(Body(inputIds, attentionMask, hiddenStates));

    /// <inheritdoc/>
    public Tensor Forward(Tensor inputIds, KvCache cache, Tensor? attentionMask = null, int logitsToKeep = 0)
    {
        var h = Body(inputIds, cache, attentionMask);
        int n = h.Size(1);
        return Head(logitsToKeep > 0 && logitsToKeep < n ? h.Narrow(1, n - logitsToKeep, logitsToKeep) : h);
    }
}
