using System;

namespace Kiln;

/// <summary>
/// One position of a tensor indexer: an integer, a slice, <see cref="NewAxis"/>, <see cref="Ellipsis"/>, or a tensor
/// (integer indices, or a bool mask, as in NumPy's advanced indexing).
/// </summary>
public readonly struct TensorIndex
{
    internal enum IndexKind : byte { Int, Slice, NewAxis, Ellipsis, Tensor }

    internal IndexKind Kind { get; init; }
    internal long Start { get; init; }
    internal bool StartFromEnd { get; init; }
    internal long? Stop { get; init; }
    internal bool StopFromEnd { get; init; }
    internal long Step { get; init; }
    internal Tensor? Values { get; init; }

    /// <summary>Inserts a size-1 dim (Python's <c>None</c>).</summary>
    public static TensorIndex NewAxis => new() { Kind = IndexKind.NewAxis };

    /// <summary>Stands for all remaining dims (Python's <c>...</c>).</summary>
    public static TensorIndex Ellipsis => new() { Kind = IndexKind.Ellipsis };

    /// <summary>A Python slice <c>start:stop:step</c>; null bounds are open.</summary>
    public static TensorIndex Slice(long? start = null, long? stop = null, long step = 1) =>
        new() { Kind = IndexKind.Slice, Start = start ?? 0, Stop = stop, Step = step };

    /// <summary>Integer indices (any shape; negative ones count from the end) or a bool mask over the next dims.</summary>
    public static implicit operator TensorIndex(Tensor t) => new() { Kind = IndexKind.Tensor, Values = t };

    /// <summary>An integer index (negative counts from the end).</summary>
    public static implicit operator TensorIndex(int i) => new() { Kind = IndexKind.Int, Start = i };

    /// <summary>An integer index (negative counts from the end).</summary>
    public static implicit operator TensorIndex(long i) => new() { Kind = IndexKind.Int, Start = i };

    /// <summary>A C# index such as <c>^1</c>.</summary>
    public static implicit operator TensorIndex(Index i) => new() { Kind = IndexKind.Int, Start = i.IsFromEnd ? -i.Value : i.Value };

    /// <summary>A C# range such as <c>1..3</c>, <c>..</c> or <c>^2..</c>.</summary>
    public static implicit operator TensorIndex(Range r) => new()
    {
        Kind = IndexKind.Slice,
        Start = r.Start.Value,
        StartFromEnd = r.Start.IsFromEnd,
        Stop = r.End.IsFromEnd && r.End.Value == 0 ? null : r.End.Value,
        StopFromEnd = r.End.IsFromEnd,
        Step = 1,
    };
}
