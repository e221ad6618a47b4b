using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using Google.Protobuf;

namespace Kiln.TensorBoard;

/// <summary>
/// Writes TensorBoard event files (<c>torch.utils.tensorboard.SummaryWriter</c>): scalars, grouped scalars, histograms,
/// PNG images and text, as <c>Event</c>/<c>Summary</c> protobuf records in TFRecord framing (length, masked CRC-32C of
/// the length, data, masked CRC-32C of the data). Open the folder with <c>tensorboard --logdir</c>.
/// </summary>
/// <remarks>The messages are encoded with Google.Protobuf's <see cref="CodedOutputStream"/> using TensorFlow's field numbers.</remarks>
public sealed class SummaryWriter : IDisposable
{
    readonly FileStream _file;
    readonly string _logDir;
    readonly Dictionary<string, SummaryWriter> _children = new();
    bool _disposed;

    /// <summary>Creates <paramref name="logDir"/> (default <c>runs/&lt;time&gt;</c>) and a new event file in it.</summary>
    public SummaryWriter(string? logDir = null)
    {
        _logDir = logDir ?? Path.Combine("runs", DateTime.Now.ToString("MMMdd_HH-mm-ss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(_logDir);
        double now = Now();
        FilePath = Path.Combine(_logDir, $"events.out.tfevents.{(long)now}.{Environment.MachineName}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..8]}");
        _file = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        WriteEvent(now, 0, fileVersion: "brain.Event:2", summary: null);
    }

    /// <summary>The folder the writer logs to.</summary>
    public string LogDir => _logDir;

    /// <summary>The event file being written.</summary>
    public string FilePath { get; }

    /// <summary>Logs one value of a scalar curve (<c>add_scalar</c>).</summary>
    public void AddScalar(string tag, double value, long step, double? wallTime = null) =>
        WriteEvent(wallTime ?? Now(), step, null, Summary(tag, v => v.WriteFloat(2, (float)value)));

    /// <summary>Logs several curves under one main tag; each goes to its own sub-run, as PyTorch does (<c>add_scalars</c>).</summary>
    public void AddScalars(string mainTag, IReadOnlyDictionary<string, double> values, long step, double? wallTime = null)
    {
        foreach (var (name, value) in values)
        {
            string key = mainTag.Replace('/', '_') + "_" + name;
            if (!_children.TryGetValue(key, out var child)) _children[key] = child = new SummaryWriter(Path.Combine(_logDir, key));
            child.AddScalar(mainTag, value, step, wallTime);
        }
    }

    /// <summary>Logs the distribution of <paramref name="values"/> (<c>add_histogram</c>) with <paramref name="bins"/> equal-width buckets.</summary>
    public void AddHistogram(string tag, Tensor values, long step, int bins = 30, double? wallTime = null)
    {
        if (bins <= 0) throw new KilnException("add_histogram", $"add_histogram: bins must be positive, got {bins} (tag '{tag}')");
        var v = values.Detach().To(DType.Float64).Reshape(-1).ToArray<double>();
        if (v.Length == 0) throw new KilnException("add_histogram", "add_histogram: the tensor is empty");
        foreach (var x in v)
            if (!double.IsFinite(x)) throw new KilnException("add_histogram", $"add_histogram: the values of '{tag}' hold {x}; a histogram needs finite values");
        double min = double.MaxValue, max = double.MinValue, sum = 0, sumSq = 0;
        foreach (var x in v) { min = Math.Min(min, x); max = Math.Max(max, x); sum += x; sumSq += x * x; }
        int nb = max > min ? bins : 1;
        var counts = new double[nb];
        var limits = new double[nb];
        double width = nb > 1 ? (max - min) / nb : 1;
        for (int i = 0; i < nb; i++) limits[i] = i == nb - 1 ? max : min + (i + 1) * width;
        foreach (var x in v) counts[nb > 1 ? Math.Min(nb - 1, (int)((x - min) / width)) : 0]++;
        WriteEvent(wallTime ?? Now(), step, null, Summary(tag, val =>
        {
            var h = new MemoryStream();
            var o = new CodedOutputStream(h);
            o.WriteTag(1, WireFormat.WireType.Fixed64); o.WriteDouble(min);
            o.WriteTag(2, WireFormat.WireType.Fixed64); o.WriteDouble(max);
            o.WriteTag(3, WireFormat.WireType.Fixed64); o.WriteDouble(v.Length);
            o.WriteTag(4, WireFormat.WireType.Fixed64); o.WriteDouble(sum);
            o.WriteTag(5, WireFormat.WireType.Fixed64); o.WriteDouble(sumSq);
            PackedDoubles(o, 6, limits);
            PackedDoubles(o, 7, counts);
            o.Flush();
            val.WriteBytes(5, h.ToArray());
        }));
    }

    /// <summary>Logs an image (<c>add_image</c>): a [C, H, W] float tensor in [0, 1] (or uint8), C = 1, 3 or 4, stored as PNG.</summary>
    public void AddImage(string tag, Tensor image, long step, double? wallTime = null)
    {
        if (image.Dim != 3 || image.Size(0) is not (1 or 3 or 4))
            throw new KilnException("add_image", $"add_image: expected a [C, H, W] image with 1, 3 or 4 channels, got [{string.Join(", ", image.Shape)}]", KilnErrorKind.Shape);
        int c = image.Size(0), h = image.Size(1), w = image.Size(2);
        using var hwc = image.Detach().Permute(1, 2, 0).Contiguous();
        var bytes = new byte[c * h * w];
        if (image.DType == DType.UInt8) Array.Copy(hwc.ToArray<byte>(), bytes, bytes.Length);
        else
        {
            var f = hwc.To(DType.Float64).ToArray<double>();
            for (int i = 0; i < f.Length; i++) bytes[i] = (byte)Math.Clamp(Math.Round(f[i] * 255), 0, 255);
        }
        var png = Png.Encode(bytes, w, h, c);
        WriteEvent(wallTime ?? Now(), step, null, Summary(tag, val =>
        {
            var m = new MemoryStream();
            var o = new CodedOutputStream(m);
            o.WriteInt32Field(1, h);
            o.WriteInt32Field(2, w);
            o.WriteInt32Field(3, c);
            o.WriteBytesField(4, png);
            o.Flush();
            val.WriteBytes(4, m.ToArray());
        }));
    }

    /// <summary>Logs a piece of text (<c>add_text</c>), shown by TensorBoard's text plugin.</summary>
    public void AddText(string tag, string text, long step, double? wallTime = null) =>
        WriteEvent(wallTime ?? Now(), step, null, Summary(tag, val =>
        {
            // SummaryMetadata { plugin_data { plugin_name: "text" } } and a scalar DT_STRING TensorProto.
            var pd = new MemoryStream(); var po = new CodedOutputStream(pd); po.WriteStringField(1, "text"); po.Flush();
            var md = new MemoryStream(); var mo = new CodedOutputStream(md); mo.WriteBytesField(1, pd.ToArray()); mo.Flush();
            val.WriteBytes(9, md.ToArray());
            var tp = new MemoryStream(); var to = new CodedOutputStream(tp);
            to.WriteInt32Field(1, 7);                                  // DT_STRING
            to.WriteBytesField(2, Array.Empty<byte>());                // scalar shape
            to.WriteBytesField(8, Encoding.UTF8.GetBytes(text));
            to.Flush();
            val.WriteBytes(8, tp.ToArray());
        }));

    /// <summary>Writes buffered events to disk.</summary>
    public void Flush()
    {
        _file.Flush(flushToDisk: true);
        foreach (var c in _children.Values) c.Flush();
    }

    /// <summary>Flushes and closes the event files.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Flush();
        _file.Dispose();
        foreach (var c in _children.Values) c.Dispose();
    }

    static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>One Summary with one Value { tag = 1, payload written by <paramref name="payload"/> }.</summary>
    static byte[] Summary(string tag, Action<ValueWriter> payload)
    {
        var value = new MemoryStream();
        var vo = new CodedOutputStream(value);
        vo.WriteStringField(1, tag);
        payload(new ValueWriter(vo));
        vo.Flush();
        var summary = new MemoryStream();
        var so = new CodedOutputStream(summary);
        so.WriteBytesField(1, value.ToArray());
        so.Flush();
        return summary.ToArray();
    }

    void WriteEvent(double wallTime, long step, string? fileVersion, byte[]? summary)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var ev = new MemoryStream();
        var o = new CodedOutputStream(ev);
        o.WriteTag(1, WireFormat.WireType.Fixed64); o.WriteDouble(wallTime);
        if (step != 0) { o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(step); }
        if (fileVersion != null) o.WriteStringField(3, fileVersion);
        if (summary != null) o.WriteBytesField(5, summary);
        o.Flush();
        TfRecord.Write(_file, ev.ToArray());
    }

    static void PackedDoubles(CodedOutputStream o, int field, double[] values)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteLength(values.Length * 8);
        foreach (var d in values) o.WriteDouble(d);
    }

    /// <summary>Writes the fields of a Summary.Value after its tag.</summary>
    internal readonly struct ValueWriter(CodedOutputStream o)
    {
        public void WriteFloat(int field, float v) { o.WriteTag(field, WireFormat.WireType.Fixed32); o.WriteFloat(v); }
        public void WriteBytes(int field, byte[] v) => o.WriteBytesField(field, v);
    }
}

/// <summary>TFRecord framing: u64 length, masked CRC-32C of the length, the record, masked CRC-32C of the record.</summary>
public static class TfRecord
{
    /// <summary>Appends one record.</summary>
    public static void Write(Stream s, ReadOnlySpan<byte> record)
    {
        Span<byte> len = stackalloc byte[8];
        BitConverter.TryWriteBytes(len, (ulong)record.Length);
        Span<byte> crc = stackalloc byte[4];
        s.Write(len);
        BitConverter.TryWriteBytes(crc, Crc32C.Masked(len));
        s.Write(crc);
        s.Write(record);
        BitConverter.TryWriteBytes(crc, Crc32C.Masked(record));
        s.Write(crc);
    }

    /// <summary>Reads every record of a TFRecord file, checking both CRCs of each (a corrupt record raises a <see cref="KilnException"/> with its offset).</summary>
    public static List<byte[]> ReadAll(string path)
    {
        var data = File.ReadAllBytes(path);
        var records = new List<byte[]>();
        int at = 0;
        while (at < data.Length)
        {
            if (data.Length - at < 12) throw new KilnException("tfrecord", $"tfrecord: {path}: at byte {at}: truncated record header");
            var lenBytes = data.AsSpan(at, 8);
            if (BitConverter.ToUInt32(data, at + 8) != Crc32C.Masked(lenBytes)) throw new KilnException("tfrecord", $"tfrecord: {path}: at byte {at}: length CRC mismatch");
            ulong n = BitConverter.ToUInt64(lenBytes);
            if (n > (ulong)(data.Length - at - 16)) throw new KilnException("tfrecord", $"tfrecord: {path}: at byte {at}: record length {n} runs past the end");
            var rec = data.AsSpan(at + 12, (int)n);
            if (BitConverter.ToUInt32(data, at + 12 + (int)n) != Crc32C.Masked(rec)) throw new KilnException("tfrecord", $"tfrecord: {path}: at byte {at + 12}: data CRC mismatch");
            records.Add(rec.ToArray());
            at += 16 + (int)n;
        }
        return records;
    }
}
