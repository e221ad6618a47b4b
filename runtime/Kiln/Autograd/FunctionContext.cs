using System.Collections.Generic;

namespace Kiln;

/// <summary>
/// The forward's side of an <see cref="Autograd.Function(string, IReadOnlyList{Tensor?}, System.Func{FunctionContext, Tensor}, System.Func{Tensor, Tensor?[]})"/>:
/// tensors saved here (<c>ctx.save_for_backward</c>) stay valid for the backward even when a <c>Tensor.Scope()</c> ends
/// or they are disposed, and are let go when the graph is released.
/// </summary>
public sealed class FunctionContext
{
    readonly List<Tensor> _saved = new();
    bool _released;

    /// <summary>Keeps <paramref name="tensor"/> for the backward and returns it.</summary>
    public Tensor Save(Tensor tensor)
    {
        if (_released) throw new KilnException("function", "function: the context was released; save tensors inside the forward");
        tensor.Pin();
        _saved.Add(tensor);
        return tensor;
    }

    internal void Release()
    {
        if (_released) return;
        _released = true;
        foreach (var t in _saved) t.Unpin();
        _saved.Clear();
    }
}
