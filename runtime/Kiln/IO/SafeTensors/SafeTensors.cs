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
            if (k == "__metadata__") throw new KilnException("safetensors", "safetensors: '__metadata__' is reserved and cannot name a tensor", KilnErrorKind.Format);
            if (!seen.Add(k)) throw new KilnException("safetensors", $"safetensors: tensor '{k}' given twice", KilnErrorKind.Format);
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
    /// <remarks>
    /// Atomic across the set: when an earlier save's shards hold the names, the new shards are written under other names,
    /// the index is swapped last, and only then are the files it no longer names removed. A save killed at any point
    /// leaves an index that names one complete set, old or new.
    /// </remarks>
    public static string SaveSharded(string directory, IEnumerable<KeyValuePair<string, Tensor>> tensors, long maxShardBytes, string baseName = "model",
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (maxShardBytes <= 0) throw new KilnException("safetensors", $"safetensors: maxShardBytes must be positive, got {maxShardBytes}", KilnErrorKind.Format);
        if (baseName.Length == 0 || baseName.IndexOfAny(['/', '\\', '\0']) >= 0)
            throw new KilnException("safetensors", $"safetensors: baseName '{baseName}' must be a plain file name", KilnErrorKind.Format);
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
        var names = new string[shards.Count];
        bool taken = false;
        for (int i = 0; i < shards.Count; i++)
        {
            names[i] = $"{baseName}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            taken |= File.Exists(Path.Combine(directory, names[i]));
        }
        if (taken)
        {
            string version = Guid.NewGuid().ToString("N")[..8];
            for (int i = 0; i < shards.Count; i++) names[i] = $"{baseName}-{i + 1:D5}-of-{shards.Count:D5}-{version}.safetensors";
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            Save(Path.Combine(directory, names[i]), shards[i], metadata);
            foreach (var kv in shards[i]) weightMap[kv.Key] = names[i];
        }
        string index = Path.Combine(directory, baseName + ".safetensors.index.json");
        var json = JsonSerializer.Serialize(new { metadata = new { total_size = total }, weight_map = weightMap }, new JsonSerializerOptions { WriteIndented = true });
        WriteAtomically(index, s => s.Write(System.Text.Encoding.UTF8.GetBytes(json)));
        RemoveStaleShards(directory, baseName, names);
        return index;
    }

    /// <summary>Shards of <paramref name="baseName"/> that the new index does not name: an earlier set, or an unfinished save's.</summary>
    static void RemoveStaleShards(string directory, string baseName, string[] keep)
    {
        var current = new HashSet<string>(keep, StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(directory, baseName + "-*-of-*.safetensors"))
        {
            string name = Path.GetFileName(file);
            if (current.Contains(name) || !IsShardName(name, baseName)) continue;
            try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>{base}-NNNNN-of-NNNNN.safetensors, optionally with a -version before the extension.</summary>
    static bool IsShardName(string name, string baseName)
    {
        var rest = name.AsSpan(baseName.Length);
        return rest.Length >= 1 + 5 + 4 + 5 + 12 && rest[0] == '-' && IsDigits(rest.Slice(1, 5)) && rest.Slice(6, 4).SequenceEqual("-of-")
            && IsDigits(rest.Slice(10, 5)) && (rest[15..] is ".safetensors" || (rest[15] == '-' && rest.EndsWith(".safetensors")));
    }

    static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (char c in s) if (c is < '0' or > '9') return false;
        return true;
    }

    /// <summary>
    /// Reads every tensor of a sharded checkpoint through its <c>*.safetensors.index.json</c>. A malformed index (invalid
    /// JSON or UTF-8, a shard name that is not a plain file beside it, a shard that is missing or lacks a tensor the
    /// index places there) raises <see cref="SafeTensorsFormatException"/> naming the index and the offset of the entry.
    /// </summary>
    public static OrderedDictionary<string, Tensor> LoadSharded(string indexPath)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var raw = File.ReadAllBytes(indexPath);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(raw); }
        catch (JsonException e) { throw new SafeTensorsFormatException(indexPath, e.BytePositionInLine ?? 0, "index is not valid JSON: " + e.Message); }
        catch (ArgumentException e) { throw new SafeTensorsFormatException(indexPath, 0, "index is not valid UTF-8 JSON: " + e.Message); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(indexPath, 0, "index has no weight_map object");
            var byFile = new Dictionary<string, List<string>>();
            var order = new List<string>();
            try
            {
                foreach (var e in map.EnumerateObject())
                {
                    string tensor = e.Name;
                    long at = OffsetOf(raw, tensor);
                    string file = e.Value.ValueKind == JsonValueKind.String ? e.Value.GetString()! : throw new SafeTensorsFormatException(indexPath, at, $"weight_map entry '{tensor}' is not a file name");
                    // Shards live beside the index: no directories, so an index cannot point elsewhere on disk.
                    if (file.IndexOfAny(['/', '\\', '\0']) >= 0 || file is "." or ".." || file.Length == 0)
                        throw new SafeTensorsFormatException(indexPath, at, $"weight_map entry '{tensor}' names '{file.Replace("\0", "\\0")}', which is not a file beside the index");
                    if (!byFile.TryGetValue(file, out var names)) byFile[file] = names = new List<string>();
                    names.Add(tensor);
                    order.Add(tensor);
                }
            }
            catch (InvalidOperationException e) // text that is not valid UTF-8 surfaces when a string is read
            {
                throw new SafeTensorsFormatException(indexPath, 0, "index holds text that is not valid UTF-8: " + e.Message);
            }
            var loaded = new Dictionary<string, Tensor>();
            try
            {
                foreach (var (file, names) in byFile)
                {
                    string shard = Path.Combine(dir, file);
                    if (!File.Exists(shard))
                        throw new SafeTensorsFormatException(indexPath, OffsetOf(raw, names[0]), $"weight_map places '{names[0]}' in '{file}', which does not exist");
                    using var f = new SafeTensorsFile(shard);
                    foreach (var n in names)
                    {
                        if (!f.Contains(n)) throw new SafeTensorsFormatException(indexPath, OffsetOf(raw, n), $"weight_map places '{n}' in '{file}', which has no such tensor");
                        loaded[n] = f.Get(n);
                    }
                }
            }
            catch
            {
                foreach (var t in loaded.Values) t.Dispose();
                throw;
            }
            var result = new OrderedDictionary<string, Tensor>();
            foreach (var n in order) result[n] = loaded[n];
            return result;
        }
    }

    /// <summary>The byte offset of a key's JSON text in the index (0 when it cannot be found verbatim).</summary>
    static long OffsetOf(byte[] raw, string key)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(key));
        int at = raw.AsSpan().IndexOf(needle);
        return Math.Max(at, 0);
    }

    /// <summary>Writes through a temporary file in the same folder, flushed to disk, then renamed over <paramref name="path"/>.</summary>
    internal static void WriteAtomically(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        RemoveLeftovers(full);
        string tmp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            // FileShare.None locks the temporary file while it is written, so RemoveLeftovers never takes a live one.
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

    /// <summary>
    /// Deletes temporary files that killed saves of <paramref name="full"/> left behind. A save in progress holds its
    /// temporary file locked, so only abandoned ones can be opened exclusively and removed.
    /// </summary>
    static void RemoveLeftovers(string full)
    {
        string? dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) return;
        foreach (var file in Directory.EnumerateFiles(dir, Path.GetFileName(full) + ".tmp-*"))
        {
            var suffix = Path.GetFileName(file).AsSpan(Path.GetFileName(full).Length + 5);
            if (suffix.Length != 32 || !IsHex(suffix)) continue;
            try
            {
                using (new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                File.Delete(file);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
