using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace Kiln.IO;

/// <summary>One tensor's entry in a safetensors header: dtype, shape and its byte range within the data section.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">Its element type.</param>
/// <param name="Shape">Its sizes.</param>
/// <param name="Begin">First byte, relative to the data section.</param>
/// <param name="End">One past the last byte, relative to the data section.</param>
public sealed record SafeTensorInfo(string Name, DType DType, int[] Shape, long Begin, long End);

/// <summary>
/// Parses and validates a safetensors header (8-byte little-endian length, then a JSON object of entries and an optional
/// <c>__metadata__</c> map of strings). Every entry is checked before anything is read: known dtype, non-negative shape
/// whose byte size matches its offsets, offsets inside the data section, entries tiling the data without gaps or overlaps.
/// </summary>
internal static class SafeTensorsHeader
{
    /// <summary>Largest header accepted (the reference implementation's limit is 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    static readonly Dictionary<string, DType> Codes = new()
    {
        ["F64"] = DType.Float64,
        ["F32"] = DType.Float32,
        ["F16"] = DType.Float16,
        ["BF16"] = DType.BFloat16,
        ["I64"] = DType.Int64,
        ["I32"] = DType.Int32,
        ["I8"] = DType.Int8,
        ["U8"] = DType.UInt8,
        ["BOOL"] = DType.Bool,
    };

    /// <summary>The safetensors code of a Kiln dtype.</summary>
    public static string Code(DType t)
    {
        foreach (var (k, v) in Codes) if (v == t) return k;
        throw new KilnException("safetensors", $"safetensors: dtype {t} has no safetensors code", KilnErrorKind.DType);
    }

    /// <summary>Parses the header of a file of <paramref name="fileLength"/> bytes whose first bytes are <paramref name="start"/>.</summary>
    public static (List<SafeTensorInfo> Entries, Dictionary<string, string> Metadata, long DataStart) Parse(string file, ReadOnlySpan<byte> start, long fileLength)
    {
        if (fileLength < 8) throw new SafeTensorsFormatException(file, 0, $"file is {fileLength} bytes, too short for the 8-byte header length");
        ulong n = BitConverter.ToUInt64(start[..8]);
        if (n > MaxHeaderBytes) throw new SafeTensorsFormatException(file, 0, $"header length {n} exceeds the {MaxHeaderBytes}-byte limit");
        if ((long)n > fileLength - 8) throw new SafeTensorsFormatException(file, 0, $"header length {n} runs past the end of the {fileLength}-byte file");
        if (start.Length < 8 + (int)n) throw new SafeTensorsFormatException(file, 8, "header is not fully available");
        var json = start.Slice(8, (int)n);
        long dataStart = 8 + (long)n, dataLength = fileLength - dataStart;
        if (n == 0 || json[0] != (byte)'{') throw new SafeTensorsFormatException(file, 8, "header must be a JSON object starting with '{'");

        JsonDocument doc;
        try { doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException e) { throw new SafeTensorsFormatException(file, 8 + (e.BytePositionInLine ?? 0), "header is not valid JSON: " + e.Message); }
        catch (ArgumentException e) { throw new SafeTensorsFormatException(file, 8, "header is not valid UTF-8 JSON: " + e.Message); }
        using (doc)
        {
            try { return Validate(file, doc, dataStart, dataLength); }
            catch (InvalidOperationException e) { throw new SafeTensorsFormatException(file, 8, "header holds text that is not valid UTF-8: " + e.Message); }
        }
    }

    static (List<SafeTensorInfo> Entries, Dictionary<string, string> Metadata, long DataStart) Validate(string file, JsonDocument doc, long dataStart, long dataLength)
    {
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new SafeTensorsFormatException(file, 8, "header must be a JSON object");
            var entries = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>();
            var names = new HashSet<string>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!names.Add(prop.Name)) throw new SafeTensorsFormatException(file, 8, $"tensor '{prop.Name}' appears twice");
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw new SafeTensorsFormatException(file, 8, "__metadata__ must be an object of strings");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw new SafeTensorsFormatException(file, 8, $"__metadata__ value '{m.Name}' must be a string");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(Entry(file, prop, dataLength));
            }
            // The entries must tile the data section exactly: sorted by offset, each starts where the previous ended.
            // Ordered by (begin, end): an empty tensor at offset x sorts before the tensor that starts at x.
            entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            long expected = 0;
            foreach (var e in entries)
            {
                if (e.Begin != expected)
                    throw new SafeTensorsFormatException(file, dataStart + Math.Min(e.Begin, expected),
                        e.Begin < expected ? $"tensor '{e.Name}' overlaps the previous tensor (starts at {e.Begin}, previous ends at {expected})"
                                           : $"gap before tensor '{e.Name}' (starts at {e.Begin}, previous ends at {expected})");
                expected = e.End;
            }
            if (expected != dataLength)
                throw new SafeTensorsFormatException(file, dataStart + expected, $"the tensors cover {expected} bytes of the {dataLength}-byte data section");
            return (entries, metadata, dataStart);
        }
    }

    static SafeTensorInfo Entry(string file, JsonProperty prop, long dataLength)
    {
        var v = prop.Value;
        string name = prop.Name;
        if (v.ValueKind != JsonValueKind.Object) throw new SafeTensorsFormatException(file, 8, $"entry '{name}' must be an object");
        if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw new SafeTensorsFormatException(file, 8, $"entry '{name}' has no dtype");
        if (!Codes.TryGetValue(dt.GetString()!, out var dtype)) throw new SafeTensorsFormatException(file, 8, $"entry '{name}' has dtype '{dt.GetString()}', which Kiln does not support");
        if (!v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw new SafeTensorsFormatException(file, 8, $"entry '{name}' has no shape");
        if (sh.GetArrayLength() > 16) throw new SafeTensorsFormatException(file, 8, $"entry '{name}' has {sh.GetArrayLength()} dims (at most 16)");
        var shape = new int[sh.GetArrayLength()];
        long numel = 1;
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long size) || size < 0 || size > int.MaxValue)
                throw new SafeTensorsFormatException(file, 8, $"entry '{name}' has an invalid size in its shape");
            shape[i++] = (int)size;
            // Saturate instead of overflowing: a huge product can never match the byte range below.
            numel = size != 0 && numel > long.MaxValue / 16 / size ? long.MaxValue / 16 : numel * size;
        }
        if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new SafeTensorsFormatException(file, 8, $"entry '{name}' needs data_offsets [begin, end]");
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new SafeTensorsFormatException(file, 8, $"entry '{name}' has invalid data_offsets");
        if (end > dataLength) throw new SafeTensorsFormatException(file, 8, $"entry '{name}' ends at {end}, past the {dataLength}-byte data section");
        if (numel * dtype.SizeOf() != end - begin)
            throw new SafeTensorsFormatException(file, 8, $"entry '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {numel * dtype.SizeOf()} bytes but data_offsets span {end - begin}");
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    /// <summary>The header bytes for <paramref name="tensors"/> laid out in order, padded with spaces to a multiple of 8.</summary>
    public static byte[] Build(IReadOnlyList<(string Name, DType DType, int[] Shape, long Bytes)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var sb = new StringBuilder("{");
        bool first = true;
        if (metadata is { Count: > 0 })
        {
            sb.Append("\"__metadata__\":{");
            bool f = true;
            foreach (var (k, v) in metadata) { if (!f) sb.Append(','); f = false; sb.Append(JsonSerializer.Serialize(k)).Append(':').Append(JsonSerializer.Serialize(v)); }
            sb.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var (name, dtype, shape, bytes) in tensors)
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append(JsonSerializer.Serialize(name)).Append(":{\"dtype\":\"").Append(Code(dtype)).Append("\",\"shape\":[")
              .Append(string.Join(",", shape)).Append("],\"data_offsets\":[").Append(offset).Append(',').Append(offset + bytes).Append("]}");
            offset += bytes;
        }
        sb.Append('}');
        while (Encoding.UTF8.GetByteCount(sb.ToString()) % 8 != 0) sb.Append(' ');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
