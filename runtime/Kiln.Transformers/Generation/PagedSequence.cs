using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary>
/// One sequence's place in a <see cref="PagedKvCache"/>: its block table (the pool blocks holding its positions, in
/// order) and how many positions are filled. Blocks are added as the sequence grows and returned by
/// <see cref="PagedKvCache.Free"/>.
/// </summary>
public sealed class PagedSequence
{
    internal readonly List<int> Blocks = [];

    internal PagedSequence(PagedKvCache pool) => Pool = pool;

    /// <summary>The pool the sequence's blocks come from.</summary>
    public PagedKvCache Pool { get; }

    /// <summary>Positions whose keys and values are stored.</summary>
    public int Length { get; internal set; }

    /// <summary>Blocks the sequence holds now.</summary>
    public int BlockCount => Blocks.Count;

    /// <summary>Positions it can hold without another block.</summary>
    public int Capacity => Blocks.Count * Pool.BlockSize;
}
