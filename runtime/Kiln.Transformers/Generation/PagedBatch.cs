using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary>
/// One model forward over sequences of a <see cref="PagedKvCache"/>: row r of the input holds n new tokens of sequence r,
/// at positions after the ones it already stores (rows may differ in length — no padding, no attention mask). Each
/// layer writes its new keys and values into the sequences' blocks and attends through them directly
/// (<see cref="PagedAttention"/>); made by <see cref="PagedKvCache.Step"/>.
/// </summary>
public sealed class PagedBatch : KvCache
{
    readonly PagedKvCache _pool;
    readonly PagedSequence[] _sequences;
    readonly int[][] _tables;
    readonly int[] _past;
    readonly int _n;
    int _maxPast;

    internal PagedBatch(PagedKvCache pool, IReadOnlyList<PagedSequence> sequences, int n)
    {
        _pool = pool;
        _n = n;
        _sequences = new PagedSequence[sequences.Count];
        _tables = new int[sequences.Count][];
        _past = new int[sequences.Count];
        for (int r = 0; r < _sequences.Length; r++)
        {
            var s = _sequences[r] = sequences[r];
            _tables[r] = s.Blocks.ToArray();
            _past[r] = s.Length;
            if (s.Length > _maxPast) _maxPast = s.Length;
        }
    }

    /// <inheritdoc/>
    public override int Batch => _sequences.Length;

    /// <summary>The longest row's stored positions before this step.</summary>
    public override int Length => _maxPast;

    internal override (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values) =>
        throw new KilnException("paged_kv_cache", "paged_kv_cache: a paged step is attended through Attend, not appended to as a contiguous cache", KilnErrorKind.Argument);

    /// <summary>Each row's own positions: its stored length onwards. A paged step takes no attention mask.</summary>
    internal override long[] Positions(long[]? keep, int b, int n, out bool padded)
    {
        if (keep is not null)
            throw new KilnException("paged_kv_cache", "paged_kv_cache: a paged step takes no attention_mask (each row has its own length)", KilnErrorKind.Argument);
        if (b != Batch || n != _n)
            throw new KilnException("paged_kv_cache", $"paged_kv_cache: the input is [{b}, {n}], the step was made for [{Batch}, {_n}]", KilnErrorKind.Shape);
        padded = false;
        var positions = new long[b * n];
        for (int r = 0; r < b; r++)
            for (int i = 0; i < n; i++) positions[r * n + i] = _past[r] + i;
        return positions;
    }

    /// <summary>
    /// Layer <paramref name="layer"/>'s attention: the new keys and values [batch, kv heads, n, head dim] are stored in
    /// the rows' blocks, then each query [batch, heads, n, head dim] attends causally to its row's stored positions
    /// (within the layer's sliding window). Returns [batch, heads, n, head dim] in the queries' dtype; the last layer's
    /// call advances every sequence by n.
    /// </summary>
    internal Tensor Attend(int layer, Tensor q, Tensor k, Tensor v, double scale)
    {
        int b = q.Size(0), heads = q.Size(1), d = q.Size(3);
        if (q.Dim != 4 || b != Batch || q.Size(2) != _n || d != _pool.HeadDim || k.Size(1) != _pool.KvHeads || heads % _pool.KvHeads != 0)
            throw new KilnException("paged_attention", $"paged_attention: q [{string.Join(", ", q.Shape)}] and k [{string.Join(", ", k.Shape)}] do not fit a step of {Batch}×{_n} over {_pool.KvHeads} kv heads of {_pool.HeadDim}", KilnErrorKind.Shape);
        PagedAttention.Store(_pool.Keys[layer].AsSpan<float>(), k.To(DType.Float32).Contiguous().AsSpan<float>(), _tables, _past, _n, _pool.KvHeads, d, _pool.BlockSize);
        PagedAttention.Store(_pool.Values[layer].AsSpan<float>(), v.To(DType.Float32).Contiguous().AsSpan<float>(), _tables, _past, _n, _pool.KvHeads, d, _pool.BlockSize);
        var qc = q.To(DType.Float32).Contiguous();
        var output = Tensor.Empty([b, heads, _n, d], DType.Float32);
        PagedAttention.Attend(qc, _pool.Keys[layer], _pool.Values[layer], _tables, _past, _n, heads, _pool.KvHeads, d, _pool.BlockSize,
            _pool.Window(layer), (float)scale, output);
        if (layer == _pool.Layers - 1)
            foreach (var s in _sequences) s.Length += _n;
        return output.DType == q.DType ? output : output.To(q.DType);
    }
}
