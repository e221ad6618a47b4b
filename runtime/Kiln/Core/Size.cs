using System;
using System.Collections;
using System.Collections.Generic;

namespace Kiln;

/// <summary>
/// A tensor's sizes (<c>torch.Size</c>): a read-only list of ints that prints as PyTorch prints it,
/// <c>Size([2, 3])</c>, and compares by value.
/// </summary>
public readonly struct Size : IReadOnlyList<int>, IEquatable<Size>
{
    readonly int[]? _dims;

    /// <summary>Sizes from <paramref name="dims"/> (copied).</summary>
    public Size(params int[] dims) => _dims = (int[])dims.Clone();

    // The tensor's own array, never handed out: the struct only reads it.
    internal static Size Wrap(int[] dims) => new(dims, wrap: true);

    Size(int[] dims, bool wrap) => _dims = dims;

    int[] Dims => _dims ?? Array.Empty<int>();

    /// <summary>Size of dimension <paramref name="index"/>.</summary>
    public int this[int index] => Dims[index];

    /// <summary>Number of dimensions.</summary>
    public int Count => Dims.Length;

    /// <summary>Number of elements (<c>Size.numel()</c>).</summary>
    public long Numel() => Compiler.Shapes.ShapeRules.Numel(Dims);

    /// <summary>A copy of the sizes as an array.</summary>
    public int[] ToArray() => (int[])Dims.Clone();

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Dims).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>PyTorch's text without the module prefix: <c>Size([2, 3])</c>, <c>Size([])</c> for a scalar.</summary>
    public override string ToString() => "Size([" + string.Join(", ", Dims) + "])";

    /// <inheritdoc/>
    public bool Equals(Size other) => Dims.AsSpan().SequenceEqual(other.Dims);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Size s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>Equal sizes.</summary>
    public static bool operator ==(Size a, Size b) => a.Equals(b);

    /// <summary>Different sizes.</summary>
    public static bool operator !=(Size a, Size b) => !a.Equals(b);

    /// <summary>The sizes as an array (a copy), for APIs that take <c>int[]</c>.</summary>
    public static implicit operator int[](Size s) => s.ToArray();
}
