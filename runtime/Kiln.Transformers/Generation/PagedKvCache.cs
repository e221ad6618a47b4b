using System;
using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary>
/// A pool of fixed-size key/value blocks shared by many sequences (vLLM's paged attention): a sequence takes blocks as
/// it grows and gives them back when it ends, so memory follows the tokens actually held instead of every request's
/// maximum length. Per layer the keys are one float32 tensor [blocks, kv heads, block size, head dim] (values alike);
/// <see cref="Step"/> makes the <see cref="KvCache"/> a model forward writes and attends through.
/// </summary>
public sealed class PagedKvCache
{
    readonly Stack<int> _free;
    readonly int?[] _windows;

    /// <summary>
    /// A pool of <paramref name="blockCount"/> blocks of <paramref name="blockSize"/> positions for a model of
    /// <paramref name="layers"/> layers; <paramref name="slidingWindows"/> gives a layer's attention window (null: full).
    /// </summary>
    public PagedKvCache(int layers, int kvHeads, int headDim, int blockCount, int blockSize = 16, int?[]? slidingWindows = null)
    {
        if (layers <= 0 || kvHeads <= 0 || headDim <= 0 || blockCount <= 0 || blockSize <= 0)
            throw new KilnException("paged_kv_cache", $"paged_kv_cache: layers, kv heads, head dim, block count and block size must be positive, got {layers}, {kvHeads}, {headDim}, {blockCount}, {blockSize}", KilnErrorKind.Argument);
        if (slidingWindows is not null && slidingWindows.Length != layers)
            throw new KilnException("paged_kv_cache", $"paged_kv_cache: {slidingWindows.Length} sliding windows for {layers} layers", KilnErrorKind.Argument);
        Layers = layers; KvHeads = kvHeads; HeadDim = headDim; BlockCount = blockCount; BlockSize = blockSize;
        _windows = slidingWindows ?? new int?[layers];
        long perLayer = (long)blockCount * kvHeads * blockSize * headDim;
        if (perLayer > int.MaxValue)
            throw new KilnException("paged_kv_cache", $"paged_kv_cache: {blockCount} blocks of {blockSize}×{kvHeads}×{headDim} floats exceed one tensor per layer", KilnErrorKind.Argument);
        Keys = new Tensor[layers];
        Values = new Tensor[layers];
        for (int l = 0; l < layers; l++)
        {
            Keys[l] = Tensor.Zeros([blockCount, kvHeads, blockSize, headDim]);
            Values[l] = Tensor.Zeros([blockCount, kvHeads, blockSize, headDim]);
        }
        _free = new Stack<int>(blockCount);
        for (int b = blockCount - 1; b >= 0; b--) _free.Push(b);
    }

    /// <summary>Decoder layers.</summary>
    public int Layers { get; }
    /// <summary>Key/value heads per layer.</summary>
    public int KvHeads { get; }
    /// <summary>Size of one head.</summary>
    public int HeadDim { get; }
    /// <summary>Blocks in the pool.</summary>
    public int BlockCount { get; }
    /// <summary>Positions per block.</summary>
    public int BlockSize { get; }
    /// <summary>Blocks no sequence holds.</summary>
    public int FreeBlocks => _free.Count;
    /// <summary>Bytes of keys and values the pool holds (all blocks, all layers).</summary>
    public long Bytes => 2L * Layers * BlockCount * KvHeads * BlockSize * HeadDim * sizeof(float);

    internal Tensor[] Keys { get; }
    internal Tensor[] Values { get; }
    internal int? Window(int layer) => _windows[layer];

    /// <summary>A new, empty sequence (it holds no block until it is reserved or stepped).</summary>
    public PagedSequence NewSequence() => new(this);

    /// <summary>Blocks <paramref name="sequence"/> still needs to hold <paramref name="extra"/> more positions.</summary>
    public int BlocksNeeded(PagedSequence sequence, int extra)
    {
        int want = (sequence.Length + extra + BlockSize - 1) / BlockSize;
        return Math.Max(0, want - sequence.BlockCount);
    }

    /// <summary>Takes the blocks <paramref name="sequence"/> needs for <paramref name="extra"/> more positions; false (and nothing taken) when the pool has too few.</summary>
    public bool TryReserve(PagedSequence sequence, int extra)
    {
        Own(sequence);
        int need = BlocksNeeded(sequence, extra);
        if (need > _free.Count) return false;
        for (int i = 0; i < need; i++) sequence.Blocks.Add(_free.Pop());
        return true;
    }

    /// <summary>Returns <paramref name="sequence"/>'s blocks to the pool; the sequence is empty afterwards.</summary>
    public void Free(PagedSequence sequence)
    {
        Own(sequence);
        foreach (int b in sequence.Blocks) _free.Push(b);
        sequence.Blocks.Clear();
        sequence.Length = 0;
    }

    /// <summary>
    /// The cache for one forward of <paramref name="n"/> new tokens in each of <paramref name="sequences"/> (the input's
    /// rows, in order): reserves the blocks they need (a clear error when the pool has too few: check
    /// <see cref="BlocksNeeded"/> first), and after the model's last layer each sequence holds n more positions.
    /// </summary>
    public PagedBatch Step(IReadOnlyList<PagedSequence> sequences, int n)
    {
        if (sequences.Count == 0 || n <= 0)
            throw new KilnException("paged_kv_cache", $"paged_kv_cache: a step needs at least one sequence and one new position, got {sequences.Count} and {n}", KilnErrorKind.Argument);
        int need = 0;
        foreach (var s in sequences) { Own(s); need += BlocksNeeded(s, n); }
        if (need > _free.Count)
            throw new KilnException("paged_kv_cache", $"paged_kv_cache: the step needs {need} more blocks, the pool has {_free.Count} free of {BlockCount}", KilnErrorKind.Argument);
        foreach (var s in sequences) TryReserve(s, n);
        return new PagedBatch(this, sequences, n);
    }

    void Own(PagedSequence s)
    {
        if (s.Pool != this) throw new KilnException("paged_kv_cache", "paged_kv_cache: the sequence belongs to another pool", KilnErrorKind.Argument);
    }
}
