using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using Kiln.Data;
using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;
using Kiln.TensorBoard;
using Xunit;

namespace Kiln.Tests.IO;

/// <summary>
/// The file formats' contracts under hostile or unlucky conditions: files the format allows are accepted, broken ones
/// raise the documented exception naming the file and offset, and a failed load or save changes nothing.
/// </summary>
public class FileContractTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-contract-" + Guid.NewGuid().ToString("N"));

    public FileContractTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    string P(string name) => Path.Combine(_dir, name);

    // ------------------------------------------------------------------ safetensors

    [Fact]
    public void ZeroElementTensorsRoundTripInAnyPosition()
    {
        var d = new List<KeyValuePair<string, Tensor>>();
        for (int i = 0; i < 32; i++)
            d.Add(new($"t{i:D2}", i % 2 == 0 ? Tensor.Zeros(0, 3) : Tensor.Full([2, i], i)));
        SafeTensors.Save(P("empty.safetensors"), d);
        var back = SafeTensors.Load(P("empty.safetensors"));
        Assert.Equal(32, back.Count);
        for (int i = 0; i < 32; i++)
        {
            var t = back[$"t{i:D2}"];
            Assert.Equal(d[i].Value.Shape, t.Shape);
            Assert.Equal(d[i].Value.ToArray<float>(), t.ToArray<float>());
        }
    }

    [Fact]
    public void AnEmptyTensorListedAfterTheTensorSharingItsOffsetIsAccepted()
    {
        // The header lists the non-empty tensor first; both start at byte 0 of the data.
        string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}";
        var bytes = Image(header, BitConverter.GetBytes(1.5f).Concat(BitConverter.GetBytes(-2f)).ToArray());
        File.WriteAllBytes(P("order.safetensors"), bytes);
        var back = SafeTensors.Load(P("order.safetensors"));
        Assert.Equal(new[] { 1.5f, -2f }, back["a"].ToArray<float>());
        Assert.Equal(0, back["b"].Numel);
    }

    static byte[] Image(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        return BitConverter.GetBytes((ulong)h.Length).Concat(h).Concat(data).ToArray();
    }

    [Fact]
    public void AFileTruncatedWhileOpenIsAFormatErrorNotACrash()
    {
        var big = Tensor.Arange(0.0, 300000.0, 1.0);
        SafeTensors.Save(P("trunc.safetensors"), [new("first", Tensor.Ones(4)), new("big", big)]);
        using var f = new SafeTensorsFile(P("trunc.safetensors"));
        using (var w = new FileStream(P("trunc.safetensors"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            w.SetLength(w.Length / 2);
        var e = Assert.Throws<SafeTensorsFormatException>(() => f.Get("big"));
        Assert.Contains("trunc.safetensors", e.Message);
        Assert.Contains("shrank", e.Message);
        Assert.True(e.Offset > 0);
    }

    [Fact]
    public void ShardIndexesThatAreBrokenGiveTheFormatException()
    {
        SafeTensors.SaveSharded(_dir, [new("a", Tensor.Ones(4)), new("b", Tensor.Zeros(4))], maxShardBytes: 16);
        string index = P("model.safetensors.index.json");
        string good = File.ReadAllText(index);

        // Invalid UTF-8 inside a tensor name.
        var raw = Encoding.UTF8.GetBytes(good.Replace("\"a\"", "\"a\u00e9\""));
        int at = Array.IndexOf(raw, (byte)0xC3);
        raw[at] = 0xFF;
        File.WriteAllBytes(index, raw);
        var e1 = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.LoadSharded(index));
        Assert.Contains("UTF-8", e1.Message);

        // A NUL inside a shard's file name.
        File.WriteAllText(index, good.Replace("model-00001-of-00002.safetensors", "model-00001\\u0000.safetensors"));
        var e2 = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.LoadSharded(index));
        Assert.Contains("not a file beside the index", e2.Message);
        Assert.True(e2.Offset > 0);

        // A tensor the index places in a shard that lacks it.
        File.WriteAllText(index, good.Replace("\"b\": \"model-00002-of-00002.safetensors\"", "\"b\": \"model-00001-of-00002.safetensors\""));
        var e3 = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.LoadSharded(index));
        Assert.Contains("has no such tensor", e3.Message);

        // A shard that does not exist.
        File.WriteAllText(index, good.Replace("model-00002-of-00002.safetensors", "model-00009-of-00009.safetensors"));
        var e4 = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.LoadSharded(index));
        Assert.Contains("does not exist", e4.Message);
    }

    [Fact]
    public void AShardedSaveThatDiesHalfwayLeavesTheOldSetLoadable()
    {
        static List<KeyValuePair<string, Tensor>> Version(float v) =>
            [new("a", Tensor.Full([4], v)), new("b", Tensor.Full([4], v)), new("c", Tensor.Full([4], v))];
        string index = SafeTensors.SaveSharded(_dir, Version(1), maxShardBytes: 16);

        // Version 2 dies while its second shard is written (a disposed tensor stands in for the kill).
        var broken = Version(2);
        broken[1].Value.Dispose();
        Assert.ThrowsAny<Exception>(() => SafeTensors.SaveSharded(_dir, broken, maxShardBytes: 16));
        var after = SafeTensors.LoadSharded(index);
        Assert.All(after.Values, t => Assert.Equal(new[] { 1f, 1, 1, 1 }, t.ToArray<float>()));

        // A complete save replaces the set and leaves only the files its index names.
        SafeTensors.SaveSharded(_dir, Version(3), maxShardBytes: 16);
        var now = SafeTensors.LoadSharded(index);
        Assert.All(now.Values, t => Assert.Equal(new[] { 3f, 3, 3, 3 }, t.ToArray<float>()));
        var shards = Directory.GetFiles(_dir, "*.safetensors").Select(Path.GetFileName).OrderBy(n => n).ToArray();
        Assert.Equal(3, shards.Length);
        string text = File.ReadAllText(index);
        Assert.All(shards, s => Assert.Contains(s!, text));
        // And a further save goes back to the plain names.
        SafeTensors.SaveSharded(_dir, Version(4), maxShardBytes: 16);
        Assert.Contains("model-00001-of-00003.safetensors\"", File.ReadAllText(index));
        Assert.Equal(3, Directory.GetFiles(_dir, "*.safetensors").Length);
        Assert.All(SafeTensors.LoadSharded(index).Values, t => Assert.Equal(4f, t.ToArray<float>()[0]));
    }

    [Fact]
    public void LeftoverTemporaryFilesOfKilledSavesAreRemovedByTheNextSave()
    {
        string path = P("w.safetensors");
        string stale = path + ".tmp-" + Guid.NewGuid().ToString("N");
        string live = path + ".tmp-" + Guid.NewGuid().ToString("N");
        string foreign = path + ".tmp-notours";
        File.WriteAllText(stale, "half a file");
        File.WriteAllText(foreign, "someone else's");
        using (var held = new FileStream(live, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            SafeTensors.Save(path, [new("x", Tensor.Ones(2))]);
            Assert.True(File.Exists(live)); // a save in progress keeps its temporary file
        }
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(foreign));
        Assert.Equal(new[] { 1f, 1 }, SafeTensors.Load(path)["x"].ToArray<float>());
    }

    // ------------------------------------------------------------------ checkpoints

    sealed class Net : Module<Tensor, Tensor>
    {
        readonly Linear fc = new(3, 2);
        public override Tensor Forward(Tensor x) => fc.Call(x);
    }

    /// <summary>A checkpoint after one SGD-momentum step, and a way to rewrite one of its metadata entries.</summary>
    string SavedCheckpoint(out Net model)
    {
        Generator.ManualSeed(3);
        model = new Net();
        var opt = new SGD(model.Parameters(), lr: 0.1, momentum: 0.9);
        F.MseLoss(model.Call(Tensor.Ones(4, 3)), Tensor.Zeros(4, 2)).Backward();
        opt.Step();
        string path = P("ck.safetensors");
        Checkpoint.Save(path, model, opt, epoch: 2, step: 7);
        return path;
    }

    string WithMetadata(string path, string key, string? value)
    {
        using var f = new SafeTensorsFile(path);
        var meta = f.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        if (value is null) meta.Remove(key); else meta[key] = value;
        string bad = P("bad-" + key.Replace('.', '_') + ".safetensors");
        SafeTensors.Save(bad, f.ReadAll(), meta);
        return bad;
    }

    [Theory]
    [InlineData("kiln.step", "seven")]
    [InlineData("kiln.step", null)]
    [InlineData("kiln.epoch", "1e3")]
    [InlineData("kiln.rng", "12")]
    [InlineData("kiln.rng", "x,y")]
    [InlineData("kiln.optimizer", "[{\"Options\":")]
    [InlineData("kiln.optimizer", "[]")]
    [InlineData("kiln.optimizer", "[null]")]
    [InlineData("kiln.optimizer", "{}")]
    public void CorruptMetadataNamesTheKeyAndChangesNothing(string key, string? value)
    {
        string bad = WithMetadata(SavedCheckpoint(out _), key, value);
        Generator.ManualSeed(11);
        var fresh = new Net();
        var opt = new SGD(fresh.Parameters(), lr: 0.5, momentum: 0.9);
        var before = fresh.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());
        var e = Assert.Throws<KilnException>(() => Checkpoint.Load(bad, fresh, opt));
        Assert.IsNotType<FormatException>(e.InnerException);
        Assert.Contains(key == "kiln.optimizer" && value == "[]" ? "parameter groups" : key, e.Message);
        foreach (var (k, v) in fresh.StateDict()) Assert.Equal(before[k], v.ToArray<float>());
        Assert.Equal(0.5, opt.ParamGroups[0].Lr);
    }

    [Fact]
    public void SgdStateIsNotLoadedIntoAdam()
    {
        string path = SavedCheckpoint(out _);
        var fresh = new Net();
        var adam = new Adam(fresh.Parameters(), lr: 0.01);
        var e = Assert.Throws<KilnException>(() => Checkpoint.Load(path, fresh, adam));
        Assert.Contains("SGD", e.Message);
        Assert.Contains("Adam", e.Message);
        // Also when the file predates the recorded kind: the options tell.
        string old = WithMetadata(path, "kiln.optimizer.kind", null);
        var e2 = Assert.Throws<KilnException>(() => Checkpoint.Load(old, fresh, adam));
        Assert.Contains("not saved by a Adam optimizer", e2.Message);
    }

    [Fact]
    public void NonStrictLoadReportsTheKeysItSkipped()
    {
        string path = SavedCheckpoint(out var saved);
        var other = new Sequential(new Linear(3, 2));
        Assert.Throws<KilnException>(() => Checkpoint.Load(path, other));
        var info = Checkpoint.Load(path, other, strict: false);
        Assert.Equal(new[] { "0.weight", "0.bias" }, info.Keys.MissingKeys);
        Assert.Equal(new[] { "fc.weight", "fc.bias" }, info.Keys.UnexpectedKeys);
        Assert.Equal(7, info.Step);
        Assert.Equal("_IncompatibleKeys(missing_keys=['0.weight', '0.bias'], unexpected_keys=['fc.weight', 'fc.bias'])", info.Keys.ToString());
        var same = Checkpoint.Load(path, new Net());
        Assert.Equal("<All keys matched successfully>", same.Keys.ToString());
    }

    // ------------------------------------------------------------------ IDX, CSV, histograms

    static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    static byte[] IdxHeader(params int[] dims)
    {
        var h = new List<byte> { 0, 0, 8, (byte)dims.Length };
        foreach (var d in dims) h.AddRange(new[] { (byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d });
        return h.ToArray();
    }

    [Fact]
    public void CorruptGzipIdxNamesTheFile()
    {
        var gz = Gzip(IdxHeader(2, 2).Concat(new byte[] { 1, 2, 3, 4 }).ToArray());
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, Idx.ReadBytes(WriteFile("ok-idx1-ubyte.gz", gz)).ToArray<byte>());
        for (int i = 12; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        string path = WriteFile("bad-idx1-ubyte.gz", gz);
        var e = Assert.Throws<KilnException>(() => Idx.ReadBytes(path));
        Assert.Contains("bad-idx1-ubyte.gz", e.Message);
    }

    [Fact]
    public void AGzipBombStopsAtTheSizeItsHeaderDeclares()
    {
        // 1 × 28 × 28 declared, 256 MiB of zeros behind it (about 250 KB compressed).
        byte[] bomb;
        using (var ms = new MemoryStream())
        {
            using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize))
            {
                gz.Write(IdxHeader(1, 28, 28));
                var zeros = new byte[1 << 20];
                for (int i = 0; i < 256; i++) gz.Write(zeros);
            }
            bomb = ms.ToArray();
        }
        Assert.True(bomb.Length < 2_000_000);
        string path = WriteFile("bomb-idx3-ubyte.gz", bomb);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<KilnException>(() => Idx.ReadBytes(path));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Contains("data continues past the 784 bytes", e.Message);
        Assert.True(allocated < 16 << 20, $"reading the bomb allocated {allocated} bytes");
    }

    string WriteFile(string name, byte[] bytes) { File.WriteAllBytes(P(name), bytes); return P(name); }

    [Fact]
    public void CsvNeverGuessesAHeaderFromADataRowSilently()
    {
        string typo = P("typo.csv");
        File.WriteAllText(typo, "1.0,2.O,0\n3,4,1\n");
        var e = Assert.Throws<KilnException>(() => new CsvDataset(typo));
        Assert.Contains("hasHeader", e.Message);
        Assert.Contains("line 1", e.Message);
        Assert.Throws<KilnException>(() => new CsvDataset(typo, hasHeader: false));
        var skipped = new CsvDataset(typo, hasHeader: true);
        Assert.Equal(1, skipped.Count);
        Assert.Equal(new[] { "1.0", "2.O", "0" }, skipped.Header);

        string named = P("named.csv");
        File.WriteAllText(named, "x,y,label\n1,2,0\n3,4,1\n");
        var ds = new CsvDataset(named);
        Assert.Equal(2, ds.Count);
        Assert.Equal(new[] { "x", "y", "label" }, ds.Header);

        string numericHeader = P("years.csv");
        File.WriteAllText(numericHeader, "2019,2020,2021\n1,2,0\n");
        Assert.Equal(2, new CsvDataset(numericHeader).Count);          // all numbers: data, as said
        Assert.Equal(1, new CsvDataset(numericHeader, hasHeader: true).Count);
    }

    [Fact]
    public void HistogramsRefuseNonPositiveBinsAndNonFiniteValues()
    {
        using var w = new SummaryWriter(Path.Combine(_dir, "runs"));
        Assert.Contains("bins", Assert.Throws<KilnException>(() => w.AddHistogram("h", Tensor.Ones(3), 0, bins: 0)).Message);
        Assert.Throws<KilnException>(() => w.AddHistogram("h", Tensor.Ones(3), 0, bins: -4));
        Assert.Contains("NaN", Assert.Throws<KilnException>(() => w.AddHistogram("h", Tensor.From(1f, float.NaN), 0)).Message);
        w.AddHistogram("h", Tensor.From(1f, 2f, 3f), 0, bins: 2);
    }
}
