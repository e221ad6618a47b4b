using System;
using System.Collections.Generic;

namespace Kiln.Distributed;

/// <summary>
/// ZeRO's gradient partitioning (stages 2 and 3): as soon as the backward has finished a parameter's gradient, it is
/// averaged over the ranks into its owner only (MPI reduce) and the other ranks drop it, so after the backward each rank
/// holds just the gradients of the parameters it updates. Every rank reaches the parameters in the same order (the same
/// graph), so the reductions pair up.
/// </summary>
internal sealed class GradientSharding
{
    readonly ProcessGroup _group;
    readonly Dictionary<Tensor, int> _owner = new(ReferenceEqualityComparer.Instance);
    readonly Action<Tensor>? _reduced;

    /// <summary>Hooks every parameter that requires grad; <paramref name="reduced"/> is told after each one is done.</summary>
    public GradientSharding(IReadOnlyList<Tensor> parameters, int[] owner, ProcessGroup group, Action<Tensor>? reduced = null)
    {
        _group = group;
        _reduced = reduced;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (!p.RequiresGrad) continue;
            if (p.DType != DType.Float32)
                throw new KilnException("zero", $"zero: parameter {i} is {p.DType}; gradients are reduced as float32", KilnErrorKind.DType);
            _owner[p] = owner[i];
            p.RegisterPostAccumulateGradHook(Ready);
        }
    }

    void Ready(Tensor p)
    {
        using var _ = Autograd.NoGrad();
        var g = p.Grad!;
        if (!g.IsContiguous) p.Grad = g = g.Contiguous();
        int owner = _owner[p];
        _group.Reduce(g, owner, ReduceOp.Average);
        if (owner != _group.Rank) p.Grad = null;
        _reduced?.Invoke(p);
    }
}
