using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Data;
using Xunit;

namespace Kiln.Tests.DataTests;

/// <summary>Datasets, samplers, collation and the data loader (ordering, seeds, workers, errors).</summary>
public class DataLoaderTests
{
    static TensorDataset Numbers(int n) => new(Tensor.Arange(0, n, 1, DType.Float32).Unsqueeze(1), Tensor.Arange(n));

    static List<float> Order(IEnumerable<Tensor[]> batches) => batches.SelectMany(b => b[0].ToArray<float>()).ToList();

    [Fact]
    public void SequentialBatchesWithAndWithoutDropLast()
    {
        var ds = Numbers(10);
        var loader = DataLoader.Create(ds, batchSize: 4);
        var batches = loader.ToList();
        Assert.Equal(3, loader.Count);
        Assert.Equal(new[] { 4, 1 }, batches[0][0].Shape);
        Assert.Equal(new[] { 2, 1 }, batches[2][0].Shape);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), Order(batches));
        Assert.Equal(new long[] { 8, 9 }, batches[2][1].ToArray<long>());
        var dropped = DataLoader.Create(ds, batchSize: 4, dropLast: true).ToList();
        Assert.Equal(2, dropped.Count);
    }

    [Fact]
    public void ShuffleIsAPermutationAndTheSameSeedGivesTheSameOrder()
    {
        var ds = Numbers(50);
        var a = Order(DataLoader.Create(ds, batchSize: 8, shuffle: true, generator: new Generator(7)));
        var b = Order(DataLoader.Create(ds, batchSize: 8, shuffle: true, generator: new Generator(7)));
        var c = Order(DataLoader.Create(ds, batchSize: 8, shuffle: true, generator: new Generator(8)));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (float)i), a.OrderBy(v => v));
        // Each epoch draws a new order from the same generator.
        var loader = DataLoader.Create(ds, batchSize: 8, shuffle: true, generator: new Generator(7));
        Assert.NotEqual(Order(loader), Order(loader));
    }

    [Fact]
    public void WorkersDeliverTheSameBatchesInOrder()
    {
        var ds = new SlowDataset(64);
        var serial = new DataLoader<Tensor, Tensor>(ds, Collate.Tensors, batchSize: 5, shuffle: true, generator: new Generator(3)).Select(b => b.ToArray<float>()).ToList();
        var parallel = new DataLoader<Tensor, Tensor>(ds, Collate.Tensors, batchSize: 5, shuffle: true, numWorkers: 3, generator: new Generator(3)).Select(b => b.ToArray<float>()).ToList();
        Assert.Equal(serial.Count, parallel.Count);
        for (int i = 0; i < serial.Count; i++) Assert.Equal(serial[i], parallel[i]);
        Assert.True(ds.Threads.Count > 1, "the workers ran on more than one thread");
    }

    [Fact]
    public void AWorkerExceptionReachesTheCallerWithTheSampleIndex()
    {
        var ds = new FailingDataset(30, failAt: 17);
        foreach (int workers in new[] { 0, 2 })
        {
            var loader = new DataLoader<Tensor, Tensor>(ds, Collate.Tensors, batchSize: 4, numWorkers: workers);
            var e = Assert.Throws<KilnException>(() => loader.ToList());
            Assert.Contains("loading sample 17 failed", e.Message);
            Assert.IsType<InvalidOperationException>(e.InnerException);
        }
        // Breaking out early stops the workers cleanly.
        var partial = new DataLoader<Tensor, Tensor>(new SlowDataset(100), Collate.Tensors, batchSize: 2, numWorkers: 2).Take(3).ToList();
        Assert.Equal(3, partial.Count);
    }

    [Fact]
    public void PaddingCollateReturnsPaddedBatchAndMask()
    {
        var seqs = new[] { Tensor.From(1f, 2f, 3f), Tensor.From(4f), Tensor.From(5f, 6f) };
        var (padded, mask) = Collate.PadSequences(seqs, paddingValue: -1);
        Assert.Equal(new[] { 3, 3 }, padded.Shape);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f, -1f, -1f, 5f, 6f, -1f }, padded.ToArray<float>());
        Assert.Equal(new[] { true, true, true, true, false, false, true, true, false }, mask.ToArray<bool>());
        var (p2, _) = Collate.PadSequences(new[] { Tensor.Ones(2, 4), Tensor.Ones(3, 4) });
        Assert.Equal(new[] { 2, 3, 4 }, p2.Shape);
        Assert.Equal(0f, p2[0, 2, 0].Item<float>());
    }

    [Fact]
    public void ConcatSubsetAndRandomSplit()
    {
        var a = Numbers(5);
        var b = Numbers(3);
        var both = new ConcatDataset<Tensor[]>(a, b);
        Assert.Equal(8, both.Count);
        Assert.Equal(2f, both[7][0].Item<float>());
        Assert.Equal(4f, both[4][0].Item<float>());
        var sub = new Subset<Tensor[]>(both, new[] { 7, 0 });
        Assert.Equal(2f, sub[0][0].Item<float>());
        var parts = DataUtils.RandomSplit(Numbers(10), [0.7, 0.3], new Generator(1));
        Assert.Equal(7, parts[0].Count);
        Assert.Equal(3, parts[1].Count);
        Assert.Equal(Enumerable.Range(0, 10), parts[0].Indices.Concat(parts[1].Indices).OrderBy(i => i));
        var again = DataUtils.RandomSplit(Numbers(10), [7, 3], new Generator(1));
        Assert.Equal(parts[0].Indices, again[0].Indices);
        Assert.Throws<KilnException>(() => DataUtils.RandomSplit(Numbers(10), [5, 4]));
        Assert.Throws<KilnException>(() => both[8]);
    }

    [Fact]
    public void SamplersAndBatchSamplers()
    {
        var bs = new BatchSampler(new SequentialSampler(7), 3, dropLast: false);
        Assert.Equal(new[] { new[] { 0, 1, 2 }, new[] { 3, 4, 5 }, new[] { 6 } }, bs.ToArray());
        var loader = new DataLoader<Tensor[], Tensor[]>(Numbers(7), Collate.TensorTuples, batchSampler: bs);
        Assert.Equal(3, loader.Count());
        var sub = new SubsetRandomSampler(new[] { 2, 4, 6 }, new Generator(5)).ToArray();
        Assert.Equal(new[] { 2, 4, 6 }, sub.OrderBy(i => i));
        var withReplacement = new RandomSampler(4, new Generator(2), replacement: true, numSamples: 100).ToArray();
        Assert.Equal(100, withReplacement.Length);
        Assert.All(withReplacement, i => Assert.InRange(i, 0, 3));
        Assert.Throws<KilnException>(() => new DataLoader<Tensor[], Tensor[]>(Numbers(7), Collate.TensorTuples, batchSize: 0));
        Assert.Throws<KilnException>(() => new DataLoader<Tensor[], Tensor[]>(Numbers(7), Collate.TensorTuples, shuffle: true, sampler: new SequentialSampler(7)));
        Assert.Throws<KilnException>(() => new TensorDataset(Tensor.Ones(3), Tensor.Ones(4)));
    }

    sealed class SlowDataset(int n) : Dataset<Tensor>
    {
        public readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> Threads = new();
        public override int Count => n;
        public override Tensor this[int index]
        {
            get
            {
                Threads[Environment.CurrentManagedThreadId] = true;
                System.Threading.Thread.Sleep(1);
                return Tensor.From((float)index, index * 2f);
            }
        }
    }

    sealed class FailingDataset(int n, int failAt) : Dataset<Tensor>
    {
        public override int Count => n;
        public override Tensor this[int index] => index == failAt ? throw new InvalidOperationException("corrupt record") : Tensor.From((float)index);
    }
}

/// <summary>Default collation of record samples (PyTorch's default_collate of dicts and named tuples).</summary>
public class RecordCollateTests
{
    public sealed record Meta(int Id, string Source);
    public sealed record Sample(Tensor Image, long Label, float Weight, double Score, bool Flag, string Name, Meta Meta);

    sealed class Samples(int n) : Dataset<Sample>
    {
        public override int Count => n;
        public override Sample this[int i] =>
            new(Tensor.Full([2, 3], i), i % 3, i * 0.5f, i * 0.25, i % 2 == 0, $"s{i}", new Meta(100 + i, i < 2 ? "a" : "b"));
    }

    [Fact]
    public void EveryFieldIsBatchedByItsType()
    {
        var batch = DataLoader.Create(new Samples(5), batchSize: 4).First();
        Assert.Equal(4, batch.Size);
        Assert.Equal(new[] { "Image", "Label", "Weight", "Score", "Flag", "Name", "Meta" }, batch.Keys.ToArray());
        var image = batch.Tensor("Image");
        Assert.Equal(new[] { 4, 2, 3 }, image.Shape.ToArray());
        Assert.Equal(3f, image[3].ToArray<float>()[5]);
        Assert.Equal(DType.Int64, batch.Tensor("Label").DType);
        Assert.Equal(new long[] { 0, 1, 2, 0 }, batch.Tensor("Label").ToArray<long>());
        Assert.Equal(DType.Float32, batch.Tensor("Weight").DType);
        Assert.Equal(new[] { 0f, 0.5f, 1f, 1.5f }, batch.Tensor("Weight").ToArray<float>());
        Assert.Equal(DType.Float64, batch.Tensor("Score").DType);
        Assert.Equal(new[] { 0, 0.25, 0.5, 0.75 }, batch.Tensor("Score").ToArray<double>());
        Assert.Equal(new[] { true, false, true, false }, batch.Tensor("Flag").ToArray<bool>());
        Assert.Equal(new[] { "s0", "s1", "s2", "s3" }, batch.Strings("Name"));
        var meta = batch.Nested("Meta");
        Assert.Equal(new long[] { 100, 101, 102, 103 }, meta.Tensor("Id").ToArray<long>());
        Assert.Equal(new[] { "a", "a", "b", "b" }, meta.Strings("Source"));
    }

    [Fact]
    public void TuplesCollateByPosition()
    {
        var batch = Collate.Records(new[] { (Tensor.Ones(2), 1), (Tensor.Zeros(2), 2) });
        Assert.Equal(new[] { "Item1", "Item2" }, batch.Keys.ToArray());
        Assert.Equal(new[] { 1f, 1f, 0f, 0f }, batch.Tensor("Item1").ToArray<float>());
    }

    public sealed record Ragged(Tensor X);
    public sealed record WithList(System.Collections.Generic.List<int> Items);

    [Fact]
    public void MismatchedShapesAndUnknownTypesNameTheField()
    {
        var e = Assert.Throws<KilnException>(() => Collate.Records(new[] { new Ragged(Tensor.Ones(2)), new Ragged(Tensor.Ones(3)) }));
        Assert.Contains("field 'X' of Ragged", e.Message);
        var u = Assert.Throws<KilnException>(() => Collate.Records(new[] { new WithList([1]) }));
        Assert.Contains("field 'Items' of WithList has type List`1", u.Message);
        Assert.Throws<System.Collections.Generic.KeyNotFoundException>(() => Collate.Records(new[] { new Ragged(Tensor.Ones(2)) })["Y"]);
    }
}
