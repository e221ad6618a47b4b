using System.Collections;
using System.Collections.Generic;

namespace Kiln.Onnx;

/// <summary>
/// An ONNX sequence value: an ordered list of tensors (what <c>SequenceConstruct</c>, <c>SplitToSequence</c> or a
/// <c>Loop</c> make). Immutable: the sequence operators return new sequences.
/// </summary>
public sealed class OnnxSequence(IReadOnlyList<Tensor> items) : IReadOnlyList<Tensor>
{
    readonly Tensor[] _items = [.. items];

    /// <summary>The tensor at <paramref name="index"/>.</summary>
    public Tensor this[int index] => _items[index];

    /// <summary>How many tensors.</summary>
    public int Count => _items.Length;

    /// <inheritdoc/>
    public IEnumerator<Tensor> GetEnumerator() => ((IEnumerable<Tensor>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() => $"sequence of {_items.Length} tensors";
}

/// <summary>An ONNX optional value: a tensor or sequence, or none (<see cref="Value"/> null).</summary>
public sealed class OnnxOptional(object? value)
{
    /// <summary>The element (a <see cref="Tensor"/> or an <see cref="OnnxSequence"/>), or null for none.</summary>
    public object? Value { get; } = value;

    /// <summary>Whether there is an element.</summary>
    public bool HasValue => Value is not null;

    /// <inheritdoc/>
    public override string ToString() => Value is null ? "optional: none" : $"optional: {Value}";
}
