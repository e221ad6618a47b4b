using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using Kiln.Data;

namespace Kiln.IO;

/// <summary>
/// Typed reads of a checkpoint's metadata strings. Every malformed or missing value becomes a
/// <see cref="KilnException"/> naming the file and the key, never a FormatException or an index error.
/// </summary>
internal sealed class CheckpointMetadata(string path, IReadOnlyDictionary<string, string> meta)
{
    public string Need(string key) => meta.TryGetValue(key, out var v) ? v
        : throw new KilnException("checkpoint", $"checkpoint: {path} has no '{key}' entry to restore", KilnErrorKind.Format);

    KilnException Bad(string key, string value, string expected) =>
        new("checkpoint", $"checkpoint: {path}: metadata '{key}' is '{Shorten(value)}', {expected}");

    static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "...";

    public long Int64(string key)
    {
        var v = Need(key);
        return long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long r) ? r : throw Bad(key, v, "not an integer");
    }

    /// <summary>"seed,offset;seed,offset;..." as written by <see cref="Checkpoint.Save"/>.</summary>
    public List<(ulong Seed, long Offset)> GeneratorStates(string key)
    {
        var v = Need(key);
        var result = new List<(ulong, long)>();
        foreach (var part in v.Split(';'))
        {
            var p = part.Split(',');
            if (p.Length != 2 || !ulong.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
                || !long.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
                throw Bad(key, v, "not a list of 'seed,offset' generator states");
            result.Add((seed, offset));
        }
        return result;
    }

    public T Json<T>(string key) where T : class
    {
        var v = Need(key);
        try { return JsonSerializer.Deserialize<T>(v) ?? throw Bad(key, v, "null where a value was expected"); }
        catch (JsonException e) { throw new KilnException("checkpoint", $"checkpoint: {path}: metadata '{key}' is not the expected JSON: {e.Message}", e, KilnErrorKind.Format); }
        catch (NotSupportedException e) { throw new KilnException("checkpoint", $"checkpoint: {path}: metadata '{key}' is not the expected JSON: {e.Message}", e, KilnErrorKind.Format); }
    }

    /// <summary>The loader's [seed, offset, position] array and its exact seed (a double cannot hold every ulong).</summary>
    public DataLoaderState LoaderState(string key, string seedKey)
    {
        var v = Json<double[]>(key);
        if (v.Length != 3 || v[1] < 0 || v[2] < 0 || v[1] != Math.Floor(v[1]) || v[2] != Math.Floor(v[2]) || v[2] > int.MaxValue)
            throw Bad(key, Need(key), "not [seed, offset, position] with a non-negative integer offset and position");
        var s = Need(seedKey);
        if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)) throw Bad(seedKey, s, "not an unsigned integer");
        return new DataLoaderState(seed, (long)v[1], (int)v[2]);
    }
}
