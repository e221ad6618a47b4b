using System;
using System.Collections;
using System.Collections.Generic;

namespace Kiln.NN.Pruning;

/// <summary>
/// The prunings applied to one tensor, in order (<c>prune.PruningContainer</c>). Its mask applies the latest method to
/// what the earlier ones left — the surviving entries for an unstructured method (so 50 % then 50 % leaves 25 %), the
/// surviving slices for a structured one, the whole tensor for a global one — and keeps every earlier zero.
/// </summary>
public sealed class PruningContainer : PruningMethod, IReadOnlyList<PruningMethod>
{
    readonly List<PruningMethod> _methods = new();

    /// <summary>A container holding <paramref name="methods"/>, in the order they were applied.</summary>
    public PruningContainer(params PruningMethod[] methods)
    {
        ArgumentNullException.ThrowIfNull(methods);
        foreach (var m in methods) Add(m);
    }

    /// <summary>Adds the next method (<c>add_pruning_method</c>).</summary>
    public void Add(PruningMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method is PruningContainer)
            throw new KilnException("PruningContainer", "PruningContainer: add the methods of a container one by one, not the container", KilnErrorKind.Argument);
        _methods.Add(method);
    }

    /// <summary>The container's type is that of its latest method.</summary>
    public override PruningType Type => _methods.Count > 0 ? _methods[^1].Type : PruningType.Unstructured;

    /// <inheritdoc/>
    public int Count => _methods.Count;

    /// <inheritdoc/>
    public PruningMethod this[int index] => _methods[index];

    /// <inheritdoc/>
    public IEnumerator<PruningMethod> GetEnumerator() => _methods.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override Tensor ComputeMask(Tensor importanceScores, Tensor defaultMask)
    {
        ArgumentNullException.ThrowIfNull(importanceScores);
        ArgumentNullException.ThrowIfNull(defaultMask);
        if (_methods.Count == 0)
            throw new KilnException("PruningContainer", "PruningContainer: no pruning method has been added", KilnErrorKind.Argument);
        var method = _methods[^1];
        switch (method.Type)
        {
            case PruningType.Unstructured:
            {
                // The entries still kept, as one vector; the method's mask over them goes back in their places.
                using var flatMask = defaultMask.Reshape(-1);
                using var kept = flatMask.Eq(1);
                using var positions = kept.Nonzero();
                using var index = positions.Reshape(-1);
                using var flatScores = importanceScores.Reshape(-1);
                using var scores = flatScores.IndexSelect(0, index);
                using var current = flatMask.IndexSelect(0, index);
                using var partial = method.ComputeMask(scores, current);
                using var merged = flatMask.IndexCopy(0, index, partial);
                return merged.Reshape(defaultMask.ShapeArray);
            }
            case PruningType.Structured:
            {
                // The slices with any entry still kept; the method chooses among them.
                var structured = (StructuredPruningMethod)method;
                const string op = "PruningContainer";
                if (defaultMask.Dim <= 1)
                    throw new KilnException(op, $"{op}: structured pruning can only be applied to multidimensional tensors; got shape {Compiler.Shapes.ShapeText.Format(defaultMask.ShapeArray)}", KilnErrorKind.Shape);
                int d = Compiler.Shapes.ShapeRules.NormalizeDim(op, structured.Dim, defaultMask.Dim);
                using var sums = defaultMask.Sum(StructuredPruningMethod.OtherDims(defaultMask.Dim, d));
                using var alive = sums.Ne(0);
                using var positions = alive.Nonzero();
                using var index = positions.Reshape(-1);
                using var scores = importanceScores.IndexSelect(d, index);
                using var current = defaultMask.IndexSelect(d, index);
                using var partial = method.ComputeMask(scores, current);
                return defaultMask.IndexCopy(d, index, partial);
            }
            default:
                return method.ComputeMask(importanceScores, defaultMask);
        }
    }
}
