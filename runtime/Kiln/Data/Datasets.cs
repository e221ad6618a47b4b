using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.Data;

/// <summary>A map-style dataset: a count and an indexer (<c>torch.utils.data.Dataset</c>).</summary>
public abstract class Dataset<T> : IReadOnlyList<T>
{
    /// <summary>Number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>Sample <paramref name="index"/> (0 ≤ index &lt; Count).</summary>
    public abstract T this[int index] { get; }

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Throws the documented error for an index outside [0, Count).</summary>
    protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new KilnException("dataset", $"{GetType().Name}: index {index} is out of range for a dataset of {Count} samples", KilnErrorKind.Index);
    }
}

/// <summary>A streaming dataset that can only be enumerated (<c>torch.utils.data.IterableDataset</c>).</summary>
public abstract class IterableDataset<T> : IEnumerable<T>
{
    /// <inheritdoc/>
    public abstract IEnumerator<T> GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A dataset over items already in memory (a list of tokenized texts, say).</summary>
public sealed class ListDataset<T> : Dataset<T>
{
    readonly IReadOnlyList<T> _items;

    /// <summary>A dataset of <paramref name="items"/> (not copied).</summary>
    public ListDataset(IReadOnlyList<T> items) => _items = items ?? throw new ArgumentNullException(nameof(items));

    /// <inheritdoc/>
    public override int Count => _items.Count;

    /// <inheritdoc/>
    public override T this[int index] => (uint)index < (uint)_items.Count ? _items[index]
        : throw new KilnException("dataset", $"dataset: index {index} is out of range for {_items.Count} items", KilnErrorKind.Index);
}

/// <summary>Samples are the rows of tensors sharing their first dimension (<c>TensorDataset</c>); a sample is one row of each.</summary>
public sealed class TensorDataset : Dataset<Tensor[]>
{
    readonly Tensor[] _tensors;

    /// <summary>A dataset over <paramref name="tensors"/>, all with the same size in dim 0.</summary>
    public TensorDataset(params Tensor[] tensors)
    {
        if (tensors.Length == 0) throw new KilnException("TensorDataset", "TensorDataset: at least one tensor is required");
        foreach (var t in tensors)
            if (t.Dim == 0 || t.Size(0) != tensors[0].Size(0))
                throw new KilnException("TensorDataset", $"TensorDataset: Size mismatch between tensors: every tensor needs the same first dimension ({string.Join(", ", tensors.Select(x => x.Dim == 0 ? "scalar" : x.Size(0).ToString()))})", KilnErrorKind.Shape);
        _tensors = tensors;
    }

    /// <inheritdoc/>
    public override int Count => _tensors[0].Size(0);

    /// <inheritdoc/>
    public override Tensor[] this[int index]
    {
        get
        {
            CheckIndex(index);
            var r = new Tensor[_tensors.Length];
            for (int i = 0; i < r.Length; i++) r[i] = _tensors[i].Select(0, index);
            return r;
        }
    }
}

/// <summary>Several datasets one after another (<c>ConcatDataset</c>).</summary>
public sealed class ConcatDataset<T> : Dataset<T>
{
    readonly Dataset<T>[] _parts;
    readonly int[] _ends;

    /// <summary>Concatenates <paramref name="datasets"/>.</summary>
    public ConcatDataset(params Dataset<T>[] datasets)
    {
        _parts = datasets;
        _ends = new int[datasets.Length];
        int total = 0;
        for (int i = 0; i < datasets.Length; i++) _ends[i] = total += datasets[i].Count;
    }

    /// <inheritdoc/>
    public override int Count => _ends.Length == 0 ? 0 : _ends[^1];

    /// <inheritdoc/>
    public override T this[int index]
    {
        get
        {
            CheckIndex(index);
            int part = Array.BinarySearch(_ends, index + 1);
            if (part < 0) part = ~part;
            int start = part == 0 ? 0 : _ends[part - 1];
            return _parts[part][index - start];
        }
    }
}

/// <summary>The samples of a dataset at the given indices (<c>Subset</c>).</summary>
public sealed class Subset<T> : Dataset<T>
{
    /// <summary>A view of <paramref name="dataset"/> at <paramref name="indices"/>.</summary>
    public Subset(Dataset<T> dataset, IReadOnlyList<int> indices)
    {
        foreach (int i in indices)
            if ((uint)i >= (uint)dataset.Count) throw new KilnException("Subset", $"Subset: index {i} is out of range for a dataset of {dataset.Count} samples", KilnErrorKind.Index);
        Dataset = dataset;
        Indices = indices;
    }

    /// <summary>The underlying dataset.</summary>
    public Dataset<T> Dataset { get; }

    /// <summary>The chosen indices.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <inheritdoc/>
    public override int Count => Indices.Count;

    /// <inheritdoc/>
    public override T this[int index] { get { CheckIndex(index); return Dataset[Indices[index]]; } }
}

/// <summary>Dataset helpers.</summary>
public static class DataUtils
{
    /// <summary>
    /// Splits a dataset into non-overlapping random subsets of the given lengths (or fractions summing to 1; remainders go
    /// round-robin to the first parts, as in PyTorch), reproducibly for a <paramref name="generator"/> seed.
    /// </summary>
    public static Subset<T>[] RandomSplit<T>(Dataset<T> dataset, double[] lengths, Generator? generator = null)
    {
        int n = dataset.Count;
        int[] sizes;
        bool fractions = lengths.Length > 0 && Math.Abs(lengths.Sum() - 1) < 1e-9 && lengths.Any(l => l < 1 || l != Math.Floor(l));
        if (fractions)
        {
            foreach (var f in lengths) if (f < 0 || f > 1) throw new KilnException("random_split", $"random_split: fraction {f} is not between 0 and 1");
            sizes = lengths.Select(f => (int)Math.Floor(n * f)).ToArray();
            int rest = n - sizes.Sum();
            for (int i = 0; i < rest; i++) sizes[i % sizes.Length]++;
        }
        else
        {
            sizes = lengths.Select(l => (int)l).ToArray();
            if (sizes.Any(s => s < 0) || sizes.Sum() != n)
                throw new KilnException("random_split", $"random_split: Sum of input lengths ({sizes.Sum()}) does not equal the length of the input dataset ({n})", KilnErrorKind.Shape);
        }
        var perm = Samplers.Permutation(n, generator);
        var parts = new Subset<T>[sizes.Length];
        int at = 0;
        for (int i = 0; i < sizes.Length; i++) { parts[i] = new Subset<T>(dataset, perm[at..(at + sizes[i])]); at += sizes[i]; }
        return parts;
    }
}
