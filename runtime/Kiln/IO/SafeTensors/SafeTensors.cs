using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace Kiln.IO;

/// <summary>
/// Reading and writing the safetensors format (a JSON header of names, dtypes, shapes and byte ranges, then raw
/// little-endian data), as Hugging Face's <c>safetensors</c> library does, including sharded checkpoints with a
/// <c>model.safetensors.index.json</c>. Writes are atomic: a temporary file, flushed to disk, then renamed over the target.
/// </summary>
public static unsafe class SafeTensors
{
    /// <summary>Writes <paramref name="tensors"/> (in their order) and optional string <paramref name="metadata"/> to <paramref name="path"/>.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = new List<(string, Tensor)>();
        var seen = new HashSet<string>();
        foreach (var (k, t) in tensors)
        {
            if (k == "__metadata__") throw new KilnException("safetensors", "safetensors: '__metadata__' is reserved and cannot name a tensor");
            if (!seen.Add(k)) throw new KilnException("safetensors", $"safetensors: tensor '{k}' given twice");
            list.Add((k, t));
        }
        var layout = new List<(string, DType, int[], long)>(list.Count);
        foreach (var (k, t) in list) layout.Add((k, t.DType, t.ShapeArray, t.Numel * t.DType.SizeOf()));
        var header = SafeTensorsHeader.Build(layout, metadata);
        WriteAtomically(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BitConverter.TryWriteBytes(len, (ulong)header.Length);
            stream.Write(len);
            stream.Write(header);
            foreach (var (_, t) in list)
            {
                // A CUDA tensor is written from a host copy (the host waits for the device here).
                using var c = t.IsCuda ? t.ToHost() : t.ContiguousInternal();
                long bytes = c.Numel * c.DType.SizeOf();
                byte* p = c.DataPointer;
                for (long done = 0; done < bytes;)
                {
                    int chunk = (int)Math.Min(1 << 30, bytes - done);
                    stream.Write(new ReadOnlySpan<byte>(p + done, chunk));
                    done += chunk;
                }
            }
        });
    }

    /// <summary>Reads every tensor of <paramref name="path"/> (validated first; see <see cref="SafeTensorsFile"/> for lazy access).</summary>
    public static OrderedDictionary<string, Tensor> Load(string path)
    {
        using var f = new SafeTensorsFile(path);
        return f.ReadAll();
    }

    /// <summary>Reads a safetensors image held in memory; <paramref name="name"/> is used in error messages.</summary>
    public static OrderedDictionary<string, Tensor> Load(ReadOnlySpan<byte> bytes, string name = "<buffer>")
    {
        var (entries, _, dataStart) = SafeTensorsHeader.Parse(name, bytes, bytes.Length);
        var d = new OrderedDictionary<string, Tensor>();
        foreach (var e in entries)
        {
            var t = Tensor.Empty(e.Shape, e.DType);
            bytes.Slice((int)(dataStart + e.Begin), (int)(e.End - e.Begin)).CopyTo(new Span<byte>(t.DataPointer, (int)(e.End - e.Begin)));
            d[e.Name] = t;
        }
        return d;
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> as shards of at most <paramref name="maxShardBytes"/> data bytes
    /// (<c>{baseName}-00001-of-0000N.safetensors</c>) plus <c>{baseName}.safetensors.index.json</c> mapping each name to its shard.
    /// Returns the index path.
    /// </summary>
    public static string SaveSharded(string directory, IEnumerable<KeyValuePair<string, Tensor>> tensors, long maxShardBytes, string baseName = "model",
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (maxShardBytes <= 0) throw new KilnException("safetensors", $"safetensors: maxShardBytes must be positive, got {maxShardBytes}");
        Directory.CreateDirectory(directory);
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long size = 0, total = 0;
        foreach (var kv in tensors)
        {
            long bytes = kv.Value.Numel * kv.Value.DType.SizeOf();
            if (size > 0 && size + bytes > maxShardBytes) { shards.Add(new()); size = 0; }
            shards[^1].Add(kv);
            size += bytes;
            total += bytes;
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"{baseName}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            Save(Path.Combine(directory, file), shards[i], metadata);
            foreach (var kv in shards[i]) weightMap[kv.Key] = file;
        }
        string index = Path.Combine(directory, baseName + ".safetensors.index.json");
        var json = JsonSerializer.Serialize(new { metadata = new { total_size = total }, weight_map = weightMap }, new JsonSerializerOptions { WriteIndented = true });
        WriteAtomically(index, s => s.Write(System.Text.Encoding.UTF8.GetBytes(json)));
        return index;
    }

    /// <summary>Reads every tensor of a sharded checkpoint through its <c>*.safetensors.index.json</c>.</summary>
    public static OrderedDictionary<string, Tensor> LoadSharded(string indexPath)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(indexPath)); }
        catch (JsonException e) { throw new SafeTensorsFormatException(indexPath, e.BytePositionInLine ?? 0, "index is not valid JSON: " + e.Message); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(indexPath, 0, "index has no weight_map object");
            var byFile = new Dictionary<string, List<string>>();
            var order = new List<string>();
            foreach (var e in map.EnumerateObject())
            {
                string file = e.Value.ValueKind == JsonValueKind.String ? e.Value.GetString()! : throw new SafeTensorsFormatException(indexPath, 0, $"weight_map entry '{e.Name}' is not a file name");
                // Shards live beside the index: no directories, so an index cannot point elsewhere on disk.
                if (file.IndexOfAny(new[] { '/', '\\' }) >= 0 || file == ".." || file.Length == 0)
                    throw new SafeTensorsFormatException(indexPath, 0, $"weight_map entry '{e.Name}' names '{file}', which is not a file beside the index");
                if (!byFile.TryGetValue(file, out var names)) byFile[file] = names = new List<string>();
                names.Add(e.Name);
                order.Add(e.Name);
            }
            var loaded = new Dictionary<string, Tensor>();
            foreach (var (file, names) in byFile)
            {
                using var f = new SafeTensorsFile(Path.Combine(dir, file));
                foreach (var n in names) loaded[n] = f.Get(n);
            }
            var result = new OrderedDictionary<string, Tensor>();
            foreach (var n in order) result[n] = loaded[n];
            return result;
        }
    }

    /// <summary>Writes through a temporary file in the same folder, flushed to disk, then renamed over <paramref name="path"/>.</summary>
    internal static void WriteAtomically(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string tmp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
