using System;

namespace Kiln.Transformers;

/// <summary>
/// Keys and values of every layer, preallocated for <see cref="MaxLength"/> positions ([batch, kv heads, max, head dim]
/// per layer) and filled in place as tokens arrive: no copy of the past per new token (Hugging Face's <c>StaticCache</c>).
/// </summary>
public sealed class StaticKvCache : KvCache
{
    readonly Tensor[] _keys, _values;
    // Row r as a block table of one block (block r): how the paged-attention kernel reads this layout.
    readonly int[][] _rowBlocks;
    int _length;

    /// <summary>An empty cache for <paramref name="layers"/> layers, on <paramref name="device"/> (the CPU when null: where the model lives).</summary>
    public StaticKvCache(int layers, int batch, int kvHeads, int maxLength, int headDim, DType dtype, Device? device = null)
    {
        if (maxLength <= 0) throw new KilnException("kv_cache", $"kv_cache: max_length must be positive, got {maxLength}", KilnErrorKind.Argument);
        _keys = new Tensor[layers];
        _values = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            _keys[i] = Tensor.Zeros([batch, kvHeads, maxLength, headDim], dtype, device);
            _values[i] = Tensor.Zeros([batch, kvHeads, maxLength, headDim], dtype, device);
        }
        Batch = batch;
        MaxLength = maxLength;
        _rowBlocks = new int[batch][];
        for (int r = 0; r < batch; r++) _rowBlocks[r] = [r];
    }

    /// <inheritdoc/>
    public override int Batch { get; }
    /// <summary>Positions the cache can hold.</summary>
    public int MaxLength { get; }
    /// <inheritdoc/>
    public override int Length => _length;

    /// <summary>
    /// One new token per row attending to every cached position (a decode step without padding): appends layer
    /// <paramref name="layer"/>'s keys and values and attends straight from this cache's [batch, kv heads, max, head dim]
    /// storage (each row one block of <see cref="MaxLength"/>), query heads mapped to their key/value head — no repeated
    /// keys, no mask; a bfloat16 cache is widened as it is read, and the result cast back to q's dtype. False (nothing
    /// done) when that does not apply: several new tokens, a float16 cache, or a graph to record.
    /// </summary>
    internal bool TryAttendOne(int layer, Tensor q, Tensor keys, Tensor values, double scale, out Tensor attended)
    {
        attended = null!;
        if (q.Size(2) != 1 || _keys[layer].DType is not (DType.Float32 or DType.BFloat16) || q.IsCuda || (Autograd.IsGradEnabled && (q.RequiresGrad || keys.RequiresGrad || values.RequiresGrad)))
            return false;
        int b = q.Size(0), heads = q.Size(1), d = q.Size(3), kvHeads = _keys[layer].Size(1);
        int filled = _length;
        Append(layer, keys, values);
        var past = new int[b];
        Array.Fill(past, filled);
        var output = Tensor.Empty([b, heads, 1, d]);
        PagedAttention.Attend(q.To(DType.Float32).Contiguous(), _keys[layer], _values[layer], _rowBlocks, past, 1, heads, kvHeads, d, MaxLength, null, (float)scale, output);
        attended = output.DType == q.DType ? output : output.To(q.DType);
        return true;
    }

    internal override (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        int n = keys.Size(2);
        if (_length + n > MaxLength)
            throw new KilnException("kv_cache", $"kv_cache: {_length} cached + {n} new positions exceed max_length {MaxLength}", KilnErrorKind.Argument);
        using (var k = _keys[layer].Narrow(2, _length, n)) k.Copy_(keys);
        using (var v = _values[layer].Narrow(2, _length, n)) v.Copy_(values);
        var all = (_keys[layer].Narrow(2, 0, _length + n), _values[layer].Narrow(2, 0, _length + n));
        if (layer == _keys.Length - 1) _length += n;
        return all;
    }
}
