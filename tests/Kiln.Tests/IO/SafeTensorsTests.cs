using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Kiln.IO;
using Xunit;

namespace Kiln.Tests.IO;

/// <summary>safetensors: the PyTorch-written reference file, round trips of every dtype, lazy access, shards, hostile files.</summary>
public class SafeTensorsTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-st-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "golden", name);

    [Fact]
    public void ReadsTheFileWrittenFromPyTorch()
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Golden("reference.safetensors.json"))).RootElement;
        using var f = new SafeTensorsFile(Golden("reference.safetensors"));
        Assert.Equal("pt", f.Metadata["format"]);
        var names = expected.GetProperty("tensors").EnumerateObject().Select(p => p.Name).OrderBy(n => n).ToArray();
        Assert.Equal(names, f.Names.OrderBy(n => n).ToArray());
        foreach (var p in expected.GetProperty("tensors").EnumerateObject())
        {
            var t = f.Get(p.Name);
            Assert.Equal(DTypes.Parse(p.Value.GetProperty("dtype").GetString()!), t.DType);
            Assert.Equal(p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), t.Shape);
            var want = p.Value.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var got = t.DType == DType.Int64 ? t.ToArray<long>().Select(v => (double)v).ToArray() : t.To(DType.Float64).ToArray<double>();
            Assert.Equal(want, got);
        }
    }

    /// <summary>Every dtype with fixed values: the file Kiln writes for Python to read back.</summary>
    static Dictionary<string, Tensor> KilnWritten() => new()
    {
        ["f32"] = Tensor.From(new[] { 1.5f, -2.25f, 3e-8f, 65504f, -0f, 7f }, 2, 3),
        ["f64"] = Tensor.From(new[] { Math.PI, -1e300, 5e-324 }, 3),
        ["f16"] = Tensor.From(new[] { 0.5f, -1.25f, 1000f, 6.1e-5f }, 2, 2).To(DType.Float16),
        ["bf16"] = Tensor.From(new[] { 1f, -3.5f, 1e30f, 0.0078125f }, 4).To(DType.BFloat16),
        ["i64"] = Tensor.From(new[] { long.MinValue, -1L, 3_000_000_000_000L }, 3),
        ["i32"] = Tensor.From(new[] { int.MaxValue, -7 }, 2, 1),
        ["i8"] = Tensor.From(new sbyte[] { -128, 0, 127 }, 3),
        ["u8"] = Tensor.From(new byte[] { 0, 128, 255 }, 3),
        ["bool"] = Tensor.From(new[] { true, false, true }, 3),
        ["empty"] = Tensor.Zeros([0, 4]),
        ["scalar"] = Tensor.Scalar(2.5f),
    };

    /// <summary>
    /// Python reads what Kiln writes: the committed file is byte for byte what Kiln writes today, and the committed
    /// report of PyTorch reading it (<c>tests/golden/make_safetensors_golden.py --read-kiln</c>, run by
    /// <c>./test.sh --regenerate-golden</c>) holds the same dtypes, shapes and values.
    /// </summary>
    [Fact]
    public void PythonReadsTheFileKilnWrites()
    {
        string path = Path.Combine(_dir, "kiln_written.safetensors");
        var tensors = KilnWritten();
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["writer"] = "kiln" });
        if (Environment.GetEnvironmentVariable("KILN_WRITE_GOLDEN") is { Length: > 0 } dir)
        {
            File.Copy(path, Path.Combine(dir, "kiln_written.safetensors"), overwrite: true);   // regeneration: Python reads it next
            return;
        }
        Assert.Equal(File.ReadAllBytes(Golden("kiln_written.safetensors")), File.ReadAllBytes(path));
        var python = JsonDocument.Parse(File.ReadAllText(Golden("kiln_written.python.json"))).RootElement;
        Assert.Equal("kiln", python.GetProperty("metadata").GetProperty("writer").GetString());
        var seen = python.GetProperty("tensors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        Assert.Equal(tensors.Keys.OrderBy(k => k), seen.Keys.OrderBy(k => k));
        foreach (var (name, t) in tensors)
        {
            var p = seen[name];
            Assert.Equal(DTypes.Parse(p.GetProperty("dtype").GetString()!), t.DType);
            Assert.Equal(p.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()), t.Shape);
            if (t.DType == DType.Int64)
                Assert.Equal(p.GetProperty("data").EnumerateArray().Select(e => e.GetInt64()), t.ToArray<long>());
            else
                Assert.Equal(p.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()), t.To(DType.Float64).ToArray<double>());
        }
    }

    [Fact]
    public void EveryDTypeRoundTripsWithMetadataAndOrder()
    {
        var g = new Generator(5);
        var tensors = new OrderedDictionary<string, Tensor>
        {
            ["a.f64"] = Tensor.Randn([2, 3], DType.Float64, g),
            ["b.f32.transposed"] = Tensor.Randn([3, 4], DType.Float32, g).T,   // written contiguous
            ["c.f16"] = Tensor.Randn([5], DType.Float32, g).To(DType.Float16),
            ["d.bf16"] = Tensor.Randn([2, 2], DType.Float32, g).To(DType.BFloat16),
            ["e.i64"] = Tensor.From(new long[] { long.MinValue, 0, long.MaxValue }, 3),
            ["f.i32"] = Tensor.From(new[] { -5, 6 }, 2),
            ["g.i8"] = Tensor.From(new long[] { -128, 127 }, 2).To(DType.Int8),
            ["h.u8"] = Tensor.From(new long[] { 0, 255 }, 2).To(DType.UInt8),
            ["i.bool"] = Tensor.From(new[] { true, false, true }, 3),
            ["j.scalar"] = Tensor.Scalar(3.5),
            ["k.empty"] = Tensor.Zeros(0, 4),
        };
        string path = Path.Combine(_dir, "all.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["epoch"] = "3" });
        var back = SafeTensors.Load(path);
        Assert.Equal(tensors.Keys, back.Keys);
        foreach (var (k, t) in tensors)
        {
            Assert.Equal(t.DType, back[k].DType);
            Assert.Equal(t.Shape, back[k].Shape);
            Assert.Equal(t.To(DType.Float64).ToArray<double>(), back[k].To(DType.Float64).ToArray<double>());
        }
        using var f = new SafeTensorsFile(path);
        Assert.Equal("3", f.Metadata["epoch"]);
        // The header is the format's: a JSON object with dtype codes and byte ranges, 8-byte aligned.
        var bytes = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, n % 8);
        var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n)).RootElement;
        Assert.Equal("BF16", header.GetProperty("d.bf16").GetProperty("dtype").GetString());
        Assert.Equal(new long[] { 0, 48 }, header.GetProperty("a.f64").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
    }

    [Fact]
    public void LazyFileReadsOnlyWhatIsAskedFor()
    {
        string path = Path.Combine(_dir, "lazy.safetensors");
        var big = Tensor.Arange(0, 1000, 1, DType.Float32).Reshape(10, 100);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["big"] = big, ["small"] = Tensor.Ones(2) });
        using var f = new SafeTensorsFile(path);
        var info = f.Info("big");
        Assert.Equal(new[] { 10, 100 }, info.Shape);
        Assert.Equal(4000, info.End - info.Begin);
        Assert.Equal(big.ToArray<float>(), f.Get("big").ToArray<float>());
        Assert.Throws<KilnException>(() => f.Get("missing"));
    }

    [Fact]
    public void ShardedCheckpointRoundTripsThroughItsIndex()
    {
        var tensors = new OrderedDictionary<string, Tensor>();
        for (int i = 0; i < 7; i++) tensors[$"layers.{i}.weight"] = Tensor.Full([16, 16], i);
        string index = SafeTensors.SaveSharded(_dir, tensors, maxShardBytes: 3 * 16 * 16 * 4);
        Assert.Equal(Path.Combine(_dir, "model.safetensors.index.json"), index);
        Assert.True(File.Exists(Path.Combine(_dir, "model-00001-of-00003.safetensors")));
        Assert.True(File.Exists(Path.Combine(_dir, "model-00003-of-00003.safetensors")));
        var idx = JsonDocument.Parse(File.ReadAllText(index)).RootElement;
        Assert.Equal(7 * 16 * 16 * 4, idx.GetProperty("metadata").GetProperty("total_size").GetInt64());
        Assert.Equal("model-00003-of-00003.safetensors", idx.GetProperty("weight_map").GetProperty("layers.6.weight").GetString());
        var back = SafeTensors.LoadSharded(index);
        Assert.Equal(tensors.Keys.OrderBy(k => k, StringComparer.Ordinal), back.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (k, t) in tensors) Assert.Equal(t.ToArray<float>(), back[k].ToArray<float>());
    }

    [Fact]
    public void AnIndexCannotPointOutsideItsFolder()
    {
        string index = Path.Combine(_dir, "evil.safetensors.index.json");
        File.WriteAllText(index, "{\"weight_map\": {\"w\": \"../secret.safetensors\"}}");
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.LoadSharded(index));
        Assert.Contains("not a file beside the index", e.Message);
    }

    [Fact]
    public void AWriteThatFailsLeavesThePreviousFileIntact()
    {
        string path = Path.Combine(_dir, "keep.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(3) });
        var before = File.ReadAllBytes(path);
        Assert.Throws<IOException>(() => SafeTensors.WriteAtomically(path, s => { s.Write(new byte[100]); throw new IOException("disk full"); }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));   // no temporary file left behind
    }

    static byte[] Valid()
    {
        string tmp = Path.GetTempFileName();
        try
        {
            SafeTensors.Save(tmp, new OrderedDictionary<string, Tensor>
            {
                ["w"] = Tensor.Randn([4, 3], DType.Float32, new Generator(1)),
                ["b"] = Tensor.Zeros([3], DType.Float64),
                ["m"] = Tensor.From(new[] { true, false }, 2),
            }, new Dictionary<string, string> { ["k"] = "v" });
            return File.ReadAllBytes(tmp);
        }
        finally { File.Delete(tmp); }
    }

    static byte[] WithHeader(string json, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(json);
        var b = new byte[8 + h.Length + dataBytes];
        BitConverter.TryWriteBytes(b.AsSpan(0, 8), (ulong)h.Length);
        h.CopyTo(b, 8);
        return b;
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "gap before tensor 'w'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes but data_offsets span 8")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", 8, "past the 8-byte data section")]
    [InlineData("{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "dtype 'C64'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, "invalid size")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4000000000,4000000000,4000000000],\"data_offsets\":[0,8]}}", 8, "invalid size")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],\"data_offsets\":[0,8]}}", 8, "needs")]
    [InlineData("{\"w\": [1, 2", 0, "not valid JSON")]
    [InlineData("[1, 2]", 0, "JSON object")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "cover 4 bytes of the 8-byte data section")]
    public void MalformedHeadersAreRejectedWithTheOffset(string json, int dataBytes, string message)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(WithHeader(json, dataBytes), "bad.safetensors"));
        Assert.Contains(message, e.Message);
        Assert.Contains("bad.safetensors: at byte", e.Message);
        Assert.True(e.Offset >= 0);
    }

    [Fact]
    public void HugeAndTruncatedLengthsAreRejectedBeforeAnyAllocation()
    {
        var huge = new byte[16];
        BitConverter.TryWriteBytes(huge.AsSpan(0, 8), ulong.MaxValue);
        Assert.Contains("exceeds", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(huge)).Message);
        var valid = Valid();
        Assert.Contains("too short", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(valid.AsSpan(0, 5))).Message);
        Assert.Contains("runs past the end", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(valid.AsSpan(0, 40))).Message);
        string path = Path.Combine(_dir, "trunc.safetensors");
        File.WriteAllBytes(path, valid.AsSpan(0, valid.Length - 3).ToArray());
        var e = Assert.Throws<SafeTensorsFormatException>(() => new SafeTensorsFile(path));
        Assert.Equal(path, e.File);
    }

    [Fact]
    public void TenThousandMutationsRaiseOnlyTheDocumentedException()
    {
        var valid = Valid();
        var rng = new Random(2024);
        long before = GC.GetTotalMemory(false);
        int rejected = 0;
        for (int i = 0; i < 10_000; i++)
        {
            var b = (byte[])valid.Clone();
            int kind = i % 4;
            if (kind == 0) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));                       // one bit flip
            else if (kind == 1) for (int j = 0; j < 4; j++) b[rng.Next(b.Length)] = (byte)rng.Next(256); // random bytes
            else if (kind == 2) b = b.AsSpan(0, rng.Next(b.Length)).ToArray();                        // truncation
            else BitConverter.TryWriteBytes(b.AsSpan(0, 8), (ulong)rng.NextInt64(0, long.MaxValue)); // wild header length
            try
            {
                var t = SafeTensors.Load(b, "fuzz");
                foreach (var v in t.Values) v.Dispose();
            }
            catch (SafeTensorsFormatException) { rejected++; }
        }
        Assert.True(rejected > 5_000, $"only {rejected} mutations were rejected");
        Assert.True(GC.GetTotalMemory(true) - before < 64L << 20, "memory grew while reading hostile files");
    }
}
