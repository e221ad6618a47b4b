namespace Kiln.Transformers;

/// <summary>
/// A cache that starts from given keys and values [batch, kv heads, n, head dim] per layer and grows by concatenation
/// (Hugging Face's <c>DynamicCache</c>): slower than <see cref="StaticKvCache"/>, but every entry stays in the autograd
/// graph — how prefix tuning trains its virtual keys and values.
/// </summary>
public sealed class DynamicKvCache : KvCache
{
    readonly Tensor[] _keys, _values;
    readonly bool[] _grown;   // whether a layer's entries are the cache's own concatenation (not the caller's tensors)
    int _length;

    /// <summary>A cache holding <paramref name="keys"/> and <paramref name="values"/> (one [batch, kv heads, n, head dim] per layer).</summary>
    public DynamicKvCache(Tensor[] keys, Tensor[] values)
    {
        if (keys.Length == 0 || keys.Length != values.Length)
            throw new KilnException("kv_cache", $"kv_cache: expected the same positive number of key and value tensors, got {keys.Length} and {values.Length}", KilnErrorKind.Argument);
        _keys = keys;
        _values = values;
        _grown = new bool[keys.Length];
        Batch = keys[0].Size(0);
        _length = keys[0].Size(2);
    }

    /// <inheritdoc/>
    public override int Batch { get; }
    /// <inheritdoc/>
    public override int Length => _length;

    internal override (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        var (oldKeys, oldValues) = (_keys[layer], _values[layer]);
        _keys[layer] = Tensor.Cat([oldKeys, keys], 2);
        _values[layer] = Tensor.Cat([oldValues, values], 2);
        // The entries outlive the step that grew them (a scope around a forward must not free them); the ones they
        // replace are the cache's own and go (an autograd graph still holding them keeps them until its backward).
        TensorScope.Exempt(_keys[layer]);
        TensorScope.Exempt(_values[layer]);
        if (_grown[layer]) { oldKeys.Dispose(); oldValues.Dispose(); }
        _grown[layer] = true;
        if (layer == _keys.Length - 1) _length += keys.Size(2);
        return (_keys[layer], _values[layer]);
    }
}
