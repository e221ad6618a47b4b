using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace Kiln.Generators;

/// <summary>
/// An immutable array compared by its elements, so pipeline models built from it are equal when their content is:
/// what lets the incremental generator skip work after unrelated edits.
/// </summary>
internal readonly struct EquatableArray<T>(ImmutableArray<T> items) : IEquatable<EquatableArray<T>>, IEnumerable<T> where T : IEquatable<T>
{
    readonly ImmutableArray<T> _items = items;

    public int Length => _items.IsDefault ? 0 : _items.Length;
    public T this[int i] => _items[i];

    public bool Equals(EquatableArray<T> other)
    {
        if (Length != other.Length) return false;
        for (int i = 0; i < Length; i++) if (!_items[i].Equals(other._items[i])) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        int h = 17;
        for (int i = 0; i < Length; i++) h = h * 31 + _items[i].GetHashCode();
        return h;
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items.IsDefault ? ImmutableArray<T>.Empty : _items)).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
