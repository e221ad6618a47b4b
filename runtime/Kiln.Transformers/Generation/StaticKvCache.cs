namespace Kiln.Transformers;

/// <summary>
/// Keys and values of every layer, preallocated for <see cref="MaxLength"/> positions ([batch, kv heads, max, head dim]
/// per layer) and filled in place as tokens arrive: no copy of the past per new token (Hugging Face's <c>StaticCache</c>).
/// </summary>
public sealed class StaticKvCache : KvCache
{
    readonly Tensor[] _keys, _values;
    int _length;

    /// <summary>An empty cache for <paramref name="layers"/> layers.</summary>
    public StaticKvCache(int layers, int batch, int kvHeads, int maxLength, int headDim, DType dtype)
    {
        if (maxLength <= 0) throw new KilnException("kv_cache", $"kv_cache: max_length must be positive, got {maxLength}", KilnErrorKind.Argument);
        _keys = new Tensor[layers];
        _values = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            _keys[i] = Tensor.Zeros([batch, kvHeads, maxLength, headDim], dtype);
            _values[i] = Tensor.Zeros([batch, kvHeads, maxLength, headDim], dtype);
        }
        Batch = batch;
        MaxLength = maxLength;
    }

    /// <inheritdoc/>
    public override int Batch { get; }
    /// <summary>Positions the cache can hold.</summary>
    public int MaxLength { get; }
    /// <inheritdoc/>
    public override int Length => _length;

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
