using System;
using System.IO;
using System.Text.Json;

namespace Kiln.Transformers;

/// <summary>Typed reads of a config.json's fields with defaults; a field of the wrong JSON kind is an error naming the file and field.</summary>
internal readonly struct ConfigJson(JsonElement e, string file)
{
    /// <summary>Refuses the first size that is not positive, naming it and <paramref name="file"/> (the config's source).</summary>
    public static void RequirePositive(string file, KilnErrorKind kind, params (string Name, int Value)[] sizes)
    {
        foreach (var (name, v) in sizes)
            if (v <= 0) throw new KilnException("config", $"{file}: {name} must be positive, got {v}", kind);
    }

    /// <summary>Throws, naming <paramref name="file"/> and the field, unless each probability is in [0, 1].</summary>
    public static void RequireProbability(string file, KilnErrorKind kind, params (string Name, double Value)[] probabilities)
    {
        foreach (var (name, p) in probabilities)
            if (!(p >= 0 && p <= 1)) throw new KilnException("config", $"{file}: {name} must be in [0, 1], got {p}", kind);
    }

    /// <summary>Parses <paramref name="path"/> (a config.json, or the folder holding it) with <paramref name="read"/>.</summary>
    public static T ReadFile<T>(string path, Func<JsonElement, string, T> read)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"no config.json at {file}", file);
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        return read(doc.RootElement, file);
    }

    public int Int(string name, int fallback)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i)) throw Wrong(name, "an integer", v);
        return i;
    }

    public int? OptionalInt(string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return Int(name, 0);
    }

    public double Double(string name, double fallback)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind != JsonValueKind.Number) throw Wrong(name, "a number", v);
        return v.GetDouble();
    }

    public double? OptionalDouble(string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return Double(name, 0);
    }

    public bool Bool(string name, bool fallback)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        return v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw Wrong(name, "true or false", v) };
    }

    public string String(string name, string fallback)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind != JsonValueKind.String) throw Wrong(name, "a string", v);
        return v.GetString()!;
    }

    KilnException Wrong(string name, string want, JsonElement v) =>
        new("config", $"{file}: {name} should be {want}, got {v.GetRawText()}", KilnErrorKind.Format);
}
