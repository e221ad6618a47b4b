using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Compilation;

/// <summary>
/// The low-rank terms of one compiled Linear for one call (LoRA adapters, see <see cref="ILowRankLinear"/>): their
/// tensors in the order the compiled node lists them as inputs (Down, Up per term), the products x·Downᵀ·scale the
/// forward keeps for the backward, and the gradients the backward hands back in the same order.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class LowRankTerms
{
    internal LowRankTerms(IReadOnlyList<LowRankTerm> terms)
    {
        Terms = terms;
        Tensors = new Tensor[2 * terms.Count];
        for (int i = 0; i < terms.Count; i++) { Tensors[2 * i] = terms[i].Down; Tensors[2 * i + 1] = terms[i].Up; }
        Inner = new Tensor[terms.Count];
        Gradients = new Tensor?[Tensors.Length];
    }

    internal IReadOnlyList<LowRankTerm> Terms { get; }
    internal Tensor[] Inner { get; }

    /// <summary>Down and Up of each term, in order: the compiled node's inputs for them.</summary>
    public Tensor[] Tensors { get; }

    /// <summary>The gradients of <see cref="Tensors"/> after the backward (null where one needs none).</summary>
    public Tensor?[] Gradients { get; }
}
