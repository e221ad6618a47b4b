using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Google.Protobuf;
using Kiln.TensorBoard;
using Xunit;

namespace Kiln.Tests.TensorBoardTests;

/// <summary>Event files read back: TFRecord framing and CRCs, then the Event/Summary fields of every kind of summary.</summary>
public class SummaryWriterTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-tb-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    /// <summary>Field number → raw values (varint as long, fixed64 as double bits, length-delimited as bytes).</summary>
    static Dictionary<int, List<object>> Fields(byte[] message)
    {
        var r = new Dictionary<int, List<object>>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            object v = WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => input.ReadInt64(),
                WireFormat.WireType.Fixed64 => input.ReadDouble(),
                WireFormat.WireType.Fixed32 => input.ReadFloat(),
                WireFormat.WireType.LengthDelimited => input.ReadBytes().ToByteArray(),
                var w => throw new InvalidOperationException($"wire type {w}"),
            };
            if (!r.TryGetValue(field, out var list)) r[field] = list = new List<object>();
            list.Add(v);
        }
        return r;
    }

    static Dictionary<int, List<object>> ValueOf(byte[] eventBytes)
    {
        var ev = Fields(eventBytes);
        var summary = Fields((byte[])ev[5][0]);
        return Fields((byte[])summary[1][0]);
    }

    [Fact]
    public void Crc32CMatchesTheStandardCheckValue()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0xCBF43926u, Png.Crc32(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void ScalarsHistogramsImagesAndTextReadBack()
    {
        string path;
        using (var w = new SummaryWriter(_dir))
        {
            w.AddScalar("loss/train", 0.5, 1);
            w.AddScalar("loss/train", 0.25, 2, wallTime: 1234.5);
            w.AddHistogram("weights", Tensor.From(1f, 2f, 2f, 3f), 3, bins: 2);
            w.AddImage("digit", Tensor.From(new float[] { 0f, 1f, 0.5f, 0.2f }, 1, 2, 2), 4);
            w.AddText("notes", "hello **kiln**", 5);
            w.AddScalars("acc", new Dictionary<string, double> { ["train"] = 0.9, ["test"] = 0.8 }, 6);
            w.Flush();
            path = w.FilePath;
        }
        var records = TfRecord.ReadAll(path);
        Assert.Equal(6, records.Count);
        var first = Fields(records[0]);
        Assert.Equal("brain.Event:2", Encoding.UTF8.GetString((byte[])first[3][0]));

        var ev = Fields(records[2]);
        Assert.Equal(2L, ev[2][0]);
        Assert.Equal(1234.5, ev[1][0]);
        var scalar = ValueOf(records[2]);
        Assert.Equal("loss/train", Encoding.UTF8.GetString((byte[])scalar[1][0]));
        Assert.Equal(0.25f, scalar[2][0]);

        var histo = Fields((byte[])ValueOf(records[3])[5][0]);
        Assert.Equal(new object[] { 1.0 }, histo[1]);            // min
        Assert.Equal(new object[] { 3.0 }, histo[2]);            // max
        Assert.Equal(new object[] { 4.0 }, histo[3]);            // count
        Assert.Equal(new object[] { 8.0 }, histo[4]);            // sum
        var counts = (byte[])histo[7][0];
        Assert.Equal(new[] { 1.0, 3.0 }, new[] { BitConverter.ToDouble(counts, 0), BitConverter.ToDouble(counts, 8) });

        var image = Fields((byte[])ValueOf(records[4])[4][0]);
        Assert.Equal(2L, image[1][0]);
        Assert.Equal(1L, image[3][0]);
        var png = (byte[])image[4][0];
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Take(4));
        Assert.Equal(0xAE426082u, (uint)(png[^4] << 24 | png[^3] << 16 | png[^2] << 8 | png[^1]));   // IEND's CRC

        var text = ValueOf(records[5]);
        var tensor = Fields((byte[])text[8][0]);
        Assert.Equal("hello **kiln**", Encoding.UTF8.GetString((byte[])tensor[8][0]));
        var plugin = Fields((byte[])Fields((byte[])text[9][0])[1][0]);
        Assert.Equal("text", Encoding.UTF8.GetString((byte[])plugin[1][0]));

        // add_scalars: one sub-run per curve, each with its own event file.
        var trainDir = Path.Combine(_dir, "acc_train");
        var trainRecords = TfRecord.ReadAll(Directory.GetFiles(trainDir).Single());
        Assert.Equal(0.9f, ValueOf(trainRecords[1])[2][0]);
    }

    [Fact]
    public void CorruptRecordsAreDetected()
    {
        string path;
        using (var w = new SummaryWriter(_dir)) { w.AddScalar("x", 1, 1); path = w.FilePath; }
        var bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        Assert.Contains("data CRC mismatch", Assert.Throws<KilnException>(() => TfRecord.ReadAll(path)).Message);
    }
}
