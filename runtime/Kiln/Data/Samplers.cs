using System;
using System.Collections;
using System.Collections.Generic;

namespace Kiln.Data;

/// <summary>Yields dataset indices in some order, once per epoch (<c>torch.utils.data.Sampler</c>).</summary>
public interface ISampler : IEnumerable<int>
{
    /// <summary>Indices per epoch.</summary>
    int Count { get; }
}

/// <summary>0, 1, ..., n-1.</summary>
public sealed class SequentialSampler(int count) : ISampler
{
    /// <inheritdoc/>
    public int Count => count;
    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() { for (int i = 0; i < count; i++) yield return i; }
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A fresh random permutation each epoch (or draws with replacement), from <paramref name="generator"/>: the same seed gives the same orders.</summary>
public sealed class RandomSampler(int count, Generator? generator = null, bool replacement = false, int? numSamples = null) : ISampler
{
    readonly Generator _generator = generator ?? Generator.Default;

    /// <inheritdoc/>
    public int Count => numSamples ?? count;

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator()
    {
        if (replacement)
        {
            using var draws = Tensor.RandInt(0, Math.Max(1, count), [Count], DType.Int64, _generator);
            foreach (long i in draws.ToArray<long>()) yield return (int)i;
            yield break;
        }
        var perm = Samplers.Permutation(count, _generator);
        for (int i = 0; i < Count; i++) yield return perm[i % count];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A random permutation of the given indices each epoch.</summary>
public sealed class SubsetRandomSampler(IReadOnlyList<int> indices, Generator? generator = null) : ISampler
{
    /// <inheritdoc/>
    public int Count => indices.Count;

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator()
    {
        foreach (int i in Samplers.Permutation(indices.Count, generator)) yield return indices[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Groups a sampler's indices into batches (<c>BatchSampler</c>); the last short batch is dropped with <c>dropLast</c>.</summary>
public sealed class BatchSampler : IEnumerable<int[]>
{
    readonly ISampler _sampler;
    readonly int _batchSize;
    readonly bool _dropLast;

    /// <summary>Batches of <paramref name="batchSize"/> indices from <paramref name="sampler"/>.</summary>
    public BatchSampler(ISampler sampler, int batchSize, bool dropLast)
    {
        if (batchSize <= 0) throw new KilnException("BatchSampler", $"BatchSampler: batch_size should be a positive integer value, but got batch_size={batchSize}", KilnErrorKind.Shape);
        _sampler = sampler; _batchSize = batchSize; _dropLast = dropLast;
    }

    /// <summary>Batches per epoch.</summary>
    public int Count => _dropLast ? _sampler.Count / _batchSize : (_sampler.Count + _batchSize - 1) / _batchSize;

    /// <inheritdoc/>
    public IEnumerator<int[]> GetEnumerator()
    {
        var batch = new List<int>(_batchSize);
        foreach (int i in _sampler)
        {
            batch.Add(i);
            if (batch.Count == _batchSize) { yield return batch.ToArray(); batch.Clear(); }
        }
        if (batch.Count > 0 && !_dropLast) yield return batch.ToArray();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Shared sampling helpers.</summary>
internal static class Samplers
{
    /// <summary>A random permutation of 0..n-1 from the generator's stream (sorting random keys: the same seed, the same order).</summary>
    public static int[] Permutation(int n, Generator? generator)
    {
        if (n == 0) return Array.Empty<int>();
        using var keys = Tensor.Rand([n], DType.Float64, generator);
        var k = keys.ToArray<double>();
        var idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        Array.Sort(k, idx);
        return idx;
    }
}

/// <summary>
/// Indices drawn with probability proportional to <c>weights</c> (<c>WeightedRandomSampler</c>): with replacement by
/// default, so rare classes can be over-sampled.
/// </summary>
public sealed class WeightedRandomSampler : ISampler
{
    readonly double[] _weights;
    readonly bool _replacement;
    readonly Generator _generator;

    /// <summary>Draws <paramref name="numSamples"/> indices into <paramref name="weights"/> per epoch.</summary>
    public WeightedRandomSampler(double[] weights, int numSamples, bool replacement = true, Generator? generator = null)
    {
        if (numSamples <= 0) throw new KilnException("WeightedRandomSampler", $"WeightedRandomSampler: num_samples should be a positive integer value, but got num_samples={numSamples}");
        if (weights.Length == 0) throw new KilnException("WeightedRandomSampler", "WeightedRandomSampler: weights must not be empty");
        _weights = (double[])weights.Clone();
        Count = numSamples;
        _replacement = replacement;
        _generator = generator ?? Generator.Default;
    }

    /// <inheritdoc/>
    public int Count { get; }

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator()
    {
        using var w = Tensor.From(_weights, _weights.Length);
        using var draws = w.Multinomial(Count, _replacement, _generator);
        foreach (long i in draws.ToArray<long>()) yield return (int)i;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
