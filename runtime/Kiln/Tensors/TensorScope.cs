using System;
using System.Collections.Generic;

namespace Kiln;

/// <summary>
/// Deterministic release of temporaries: <c>using (Tensor.Scope()) { ... }</c> disposes every tensor
/// created inside it on this thread. Scopes nest; <see cref="Keep"/> hands a tensor to the enclosing scope.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] static TensorScope? _current;
    readonly TensorScope? _outer;
    // What a scope disposes is what it still owns (Tensor.OwnerScope): Keep moves a tensor out, Exempt takes it out of
    // every scope, so no kept-set is needed (ops open a scope per call).
    readonly List<Tensor> _owned = new();
    bool _closed;

    internal TensorScope()
    {
        _outer = _current;
        _current = this;
    }

    internal static void Register(Tensor t)
    {
        if (_current is not { } scope) return;
        scope._owned.Add(t);
        t.OwnerScope = scope;
    }

    /// <summary>Keeps a tensor the runtime hands to the user past every open scope (gradients live on after a training step's scope).</summary>
    internal static void Exempt(Tensor t) => t.OwnerScope = null;

    /// <summary>
    /// Keeps <paramref name="t"/> alive past this scope: a tensor this scope owns moves to the enclosing scope, if any; one
    /// created before the scope opened (an op's input handed back) stays where it was.
    /// </summary>
    public Tensor Keep(Tensor t)
    {
        if (!ReferenceEquals(t.OwnerScope, this)) return t;
        t.OwnerScope = _outer;
        _outer?._owned.Add(t);
        return t;
    }

    /// <summary>Keeps each non-null tensor of an op's several results (see <see cref="Keep"/>).</summary>
    internal void KeepAll(params Tensor?[] results)
    {
        foreach (var t in results)
            if (t is not null) Keep(t);
    }

    /// <summary>Disposes every tensor created in the scope that was not kept.</summary>
    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        if (_current == this) _current = _outer;
        foreach (var t in _owned)
            if (ReferenceEquals(t.OwnerScope, this)) t.Dispose();
        _owned.Clear();
    }
}
