using System;
using System.Collections;
using System.Collections.Generic;
using Kiln.Data;

namespace Kiln.Distributed;

/// <summary>
/// This rank's share of a dataset's indices (<c>torch.utils.data.DistributedSampler</c>): the epoch's order (a
/// permutation seeded by seed + epoch, or 0..n-1), padded by repeating its start to a multiple of the rank count (or
/// cut, with <c>dropLast</c>), then every <c>numReplicas</c>-th index from <c>rank</c> on. Every rank sees the same
/// number of samples; call <see cref="SetEpoch"/> each epoch for a fresh order.
/// </summary>
public sealed class DistributedSampler : ISampler
{
    readonly int _size, _replicas, _rank;
    readonly bool _shuffle, _dropLast;
    readonly ulong _seed;
    int _epoch;

    /// <summary>A sampler over <paramref name="datasetSize"/> items for rank <paramref name="rank"/> of <paramref name="numReplicas"/>.</summary>
    public DistributedSampler(int datasetSize, int numReplicas, int rank, bool shuffle = true, ulong seed = 0, bool dropLast = false)
    {
        if (numReplicas < 1 || rank < 0 || rank >= numReplicas)
            throw new KilnException("DistributedSampler", $"DistributedSampler: invalid rank {rank}, rank should be in the interval [0, {numReplicas - 1}]", KilnErrorKind.Argument);
        _size = datasetSize; _replicas = numReplicas; _rank = rank; _shuffle = shuffle; _seed = seed; _dropLast = dropLast;
    }

    /// <summary>For this rank of <paramref name="group"/>.</summary>
    public DistributedSampler(int datasetSize, ProcessGroup group, bool shuffle = true, ulong seed = 0, bool dropLast = false)
        : this(datasetSize, group.WorldSize, group.Rank, shuffle, seed, dropLast) { }

    /// <inheritdoc/>
    public int Count => _dropLast && _size % _replicas != 0 ? _size / _replicas : (_size + _replicas - 1) / _replicas;

    /// <summary>The epoch whose order the next enumeration yields.</summary>
    public void SetEpoch(int epoch) => _epoch = epoch;

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator()
    {
        int[] order;
        if (_shuffle)
        {
            using var perm = Tensor.Randperm(_size, generator: new Generator(_seed + (ulong)_epoch));
            var longs = perm.ToArray<long>();
            order = new int[longs.Length];
            for (int i = 0; i < order.Length; i++) order[i] = (int)longs[i];
        }
        else
        {
            order = new int[_size];
            for (int i = 0; i < _size; i++) order[i] = i;
        }
        int total = Count * _replicas;
        for (int k = _rank; k < total; k += _replicas) yield return order.Length == 0 ? 0 : order[k % order.Length];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
