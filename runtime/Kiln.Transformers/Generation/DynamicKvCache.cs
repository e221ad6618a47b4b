namespace Kiln.Transformers;

/// <summary>
/// A cache that starts from given keys and values [batch, kv heads, n, head dim] per layer and grows by concatenation
/// (Hugging Face's <c>DynamicCache</c>): slower than <see cref="StaticKvCache"/>, but every entry stays in the autograd
/// graph — how prefix tuning trains its virtual keys and values.
/// </summary>
public sealed class DynamicKvCache : KvCache
{
    readonly Tensor[] _keys, _values;
    int _length;

    /// <summary>A cache holding <paramref name="keys"/> and <paramref name="values"/> (one [batch, kv heads, n, head dim] per layer).</summary>
    public DynamicKvCache(Tensor[] keys, Tensor[] values)
    {
        if (keys.Length == 0 || keys.Length != values.Length)
            throw new KilnException("kv_cache", $"kv_cache: expected the same positive number of key and value tensors, got {keys.Length} and {values.Length}", KilnErrorKind.Argument);
        _keys = keys;
        _values = values;
        Batch = keys[0].Size(0);
        _length = keys[0].Size(2);
    }

    /// <inheritdoc/>
    public override int Batch { get; }
    /// <inheritdoc/>
    public override int Length => _length;

    internal override (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        _keys[layer] = Tensor.Cat([_keys[layer], keys], 2);
        _values[layer] = Tensor.Cat([_values[layer], values], 2);
        if (layer == _keys.Length - 1) _length += keys.Size(2);
        return (_keys[layer], _values[layer]);
    }
}
