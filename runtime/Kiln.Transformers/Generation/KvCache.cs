namespace Kiln.Transformers;

/// <summary>
/// Keys and values of every layer, preallocated for <see cref="MaxLength"/> positions ([batch, kv heads, max, head dim]
/// per layer) and filled in place as tokens arrive: no copy of the past per new token.
/// </summary>
public sealed class KvCache
{
    readonly Tensor[] _keys, _values;

    /// <summary>An empty cache for <paramref name="layers"/> layers.</summary>
    public KvCache(int layers, int batch, int kvHeads, int maxLength, int headDim, DType dtype)
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

    /// <summary>
    /// A cache that starts from given keys and values [batch, kv heads, n, head dim] per layer and grows by
    /// concatenation: slower than the preallocated one, but every entry stays in the autograd graph — how prefix tuning
    /// trains its virtual keys and values.
    /// </summary>
    internal KvCache(Tensor[] keys, Tensor[] values)
    {
        _keys = keys;
        _values = values;
        _concatenating = true;
        Batch = keys[0].Size(0);
        MaxLength = int.MaxValue;
        Length = keys[0].Size(2);
    }

    readonly bool _concatenating;

    /// <summary>Rows the cache holds.</summary>
    public int Batch { get; }
    /// <summary>Positions the cache can hold.</summary>
    public int MaxLength { get; }
    /// <summary>Positions filled so far.</summary>
    public int Length { get; private set; }

    /// <summary>
    /// Writes layer <paramref name="layer"/>'s new keys and values [batch, kv heads, n, head dim] after the filled positions
    /// and returns views of everything so far; the last layer's call advances <see cref="Length"/> by n.
    /// </summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        int n = keys.Size(2);
        if (_concatenating)
        {
            _keys[layer] = Tensor.Cat([_keys[layer], keys], 2);
            _values[layer] = Tensor.Cat([_values[layer], values], 2);
            if (layer == _keys.Length - 1) Length += n;
            return (_keys[layer], _values[layer]);
        }
        if (Length + n > MaxLength)
            throw new KilnException("kv_cache", $"kv_cache: {Length} cached + {n} new positions exceed max_length {MaxLength}", KilnErrorKind.Argument);
        using (var k = _keys[layer].Narrow(2, Length, n)) k.Copy_(keys);
        using (var v = _values[layer].Narrow(2, Length, n)) v.Copy_(values);
        var all = (_keys[layer].Narrow(2, 0, Length + n), _values[layer].Narrow(2, 0, Length + n));
        if (layer == _keys.Length - 1) Length += n;
        return all;
    }
}
