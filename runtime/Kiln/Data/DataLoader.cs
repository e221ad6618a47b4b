using System;
using System.Collections;
using System.Collections.Generic;

namespace Kiln.Data;

/// <summary>
/// Batches of a dataset (<c>torch.utils.data.DataLoader</c>): sampling (sequential, seeded shuffle, or any sampler or
/// batch sampler), collation, drop-last, and background workers that prefetch through a bounded window and still deliver
/// batches in order. An exception while loading a sample reaches the caller naming the sample index.
/// </summary>
public sealed class DataLoader<T, TBatch> : IEnumerable<TBatch>, IResumableLoader
{
    readonly Dataset<T> _dataset;
    readonly Generator _generator;
    ulong _epochSeed;
    long _epochOffset;
    int _position, _skip;
    readonly Func<IReadOnlyList<T>, TBatch> _collate;
    readonly IEnumerable<int[]> _batches;
    readonly int _count;

    /// <summary>
    /// A loader over <paramref name="dataset"/>. <paramref name="shuffle"/> draws a new permutation from
    /// <paramref name="generator"/> each epoch; <paramref name="sampler"/> or <paramref name="batchSampler"/> replace it.
    /// </summary>
    public DataLoader(Dataset<T> dataset, Func<IReadOnlyList<T>, TBatch> collate, int batchSize = 1, bool shuffle = false, bool dropLast = false,
        ISampler? sampler = null, IEnumerable<int[]>? batchSampler = null, int numWorkers = 0, int prefetchFactor = 2, Generator? generator = null)
    {
        if (batchSize <= 0) throw new KilnException("DataLoader", $"DataLoader: batch_size should be a positive integer value, but got batch_size={batchSize}", KilnErrorKind.Shape);
        if (numWorkers < 0) throw new KilnException("DataLoader", $"DataLoader: num_workers option should be non-negative, got {numWorkers}");
        if (prefetchFactor <= 0) throw new KilnException("DataLoader", $"DataLoader: prefetch_factor must be positive, got {prefetchFactor}");
        if (shuffle && sampler != null) throw new KilnException("DataLoader", "DataLoader: sampler option is mutually exclusive with shuffle");
        if (batchSampler != null && (sampler != null || shuffle || dropLast || batchSize != 1))
            throw new KilnException("DataLoader", "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last", KilnErrorKind.Shape);
        _dataset = dataset;
        _collate = collate;
        _generator = generator ?? Generator.Default;
        NumWorkers = numWorkers;
        PrefetchFactor = prefetchFactor;
        if (batchSampler != null)
        {
            _batches = batchSampler;
            _count = batchSampler is BatchSampler bs ? bs.Count : -1;
        }
        else
        {
            var s = sampler ?? (shuffle ? new RandomSampler(dataset.Count, _generator) : new SequentialSampler(dataset.Count));
            var bs = new BatchSampler(s, batchSize, dropLast);
            _batches = bs;
            _count = bs.Count;
        }
    }

    /// <summary>Background workers (0 loads on the caller's thread).</summary>
    public int NumWorkers { get; }

    /// <summary>Batches each worker may have ready ahead of the consumer.</summary>
    public int PrefetchFactor { get; }

    /// <summary>Batches per epoch (-1 when a custom batch sampler does not say).</summary>
    public int Count => _count;

    /// <inheritdoc/>
    public IEnumerator<TBatch> GetEnumerator() => NumWorkers == 0 ? Serial() : Parallel();

    /// <inheritdoc/>
    public DataLoaderState State => new(_epochSeed, _epochOffset, _position);

    /// <inheritdoc/>
    public void LoadState(DataLoaderState state)
    {
        if (state.Position < 0) throw new KilnException("DataLoader", $"DataLoader: position {state.Position} must be non-negative");
        // A finished epoch resumes at the next one: the generator keeps its current (post-epoch) state.
        if (_count >= 0 && state.Position >= _count) { _skip = 0; return; }
        _generator.SetState(state.Seed, state.Offset);
        _skip = state.Position;
    }

    /// <summary>This epoch's batches: the generator state is recorded first, so a saved position replays the same order.</summary>
    List<int[]> Plan()
    {
        _epochSeed = _generator.Seed;
        _epochOffset = _generator.Offset;
        var all = new List<int[]>(_batches);
        int skip = Math.Min(_skip, all.Count);
        _skip = 0;
        _position = skip;
        return skip == 0 ? all : all.GetRange(skip, all.Count - skip);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    TBatch Load(int[] indices)
    {
        var samples = new T[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            try { samples[i] = _dataset[indices[i]]; }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new KilnException("DataLoader", $"DataLoader: loading sample {indices[i]} failed: {e.Message}", e, KilnErrorKind.Index);
            }
        }
        return _collate(samples);
    }

    IEnumerator<TBatch> Serial()
    {
        foreach (var b in Plan())
        {
            var batch = Load(b);
            _position++;
            yield return batch;
        }
    }

    IEnumerator<TBatch> Parallel() =>
        // This epoch's batches are fixed before the workers start.
        new PrefetchingEnumerator<TBatch>(Plan(), Load, NumWorkers, PrefetchFactor, () => _position++);
}

/// <summary>Where a loader is within an epoch: the shuffle generator's state when the epoch began and the batches delivered.</summary>
/// <param name="Seed">The generator's seed at the start of the epoch.</param>
/// <param name="Offset">The generator's offset at the start of the epoch.</param>
/// <param name="Position">Batches of the epoch already delivered.</param>
public sealed record DataLoaderState(ulong Seed, long Offset, int Position);

/// <summary>A loader whose position can be saved in a checkpoint and restored to continue the same epoch.</summary>
public interface IResumableLoader
{
    /// <summary>The position to save.</summary>
    DataLoaderState State { get; }

    /// <summary>Makes the next enumeration replay the saved epoch's order and skip the batches already delivered.</summary>
    void LoadState(DataLoaderState state);
}

/// <summary>Constructors of <see cref="DataLoader{T, TBatch}"/> with the default collation for common sample types.</summary>
public static class DataLoader
{
    /// <summary>A loader of <see cref="TensorDataset"/>-style samples: each field stacked.</summary>
    public static DataLoader<Tensor[], Tensor[]> Create(Dataset<Tensor[]> dataset, int batchSize = 1, bool shuffle = false, bool dropLast = false,
        int numWorkers = 0, Generator? generator = null) =>
        new(dataset, Collate.TensorTuples, batchSize, shuffle, dropLast, numWorkers: numWorkers, generator: generator);

    /// <summary>A loader of tensors: stacked.</summary>
    public static DataLoader<Tensor, Tensor> Create(Dataset<Tensor> dataset, int batchSize = 1, bool shuffle = false, bool dropLast = false,
        int numWorkers = 0, Generator? generator = null) =>
        new(dataset, Collate.Tensors, batchSize, shuffle, dropLast, numWorkers: numWorkers, generator: generator);

    /// <summary>A loader of records (or classes, structs, tuples): each field batched by <see cref="Collate.Records{T}"/>.</summary>
    public static DataLoader<T, RecordBatch> Create<T>(Dataset<T> dataset, int batchSize = 1, bool shuffle = false, bool dropLast = false,
        int numWorkers = 0, Generator? generator = null) =>
        new(dataset, Collate.Records, batchSize, shuffle, dropLast, numWorkers: numWorkers, generator: generator);

    /// <summary>A loader of (input, class label) samples: inputs stacked, labels as int64.</summary>
    public static DataLoader<(Tensor, long), (Tensor, Tensor)> Create(Dataset<(Tensor, long)> dataset, int batchSize = 1, bool shuffle = false,
        bool dropLast = false, int numWorkers = 0, Generator? generator = null) =>
        new(dataset, Collate.Labeled, batchSize, shuffle, dropLast, numWorkers: numWorkers, generator: generator);
}
