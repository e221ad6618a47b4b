using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.Tests.Golden;

namespace Kiln.Tests.NN;

/// <summary>tests/golden/data/nn.json, written by tests/golden/make_nn_golden.py from PyTorch.</summary>
public static class NNGolden
{
    static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "nn.json"))));

    public static JsonElement Section(string name) => Doc.Value.RootElement.GetProperty(name);

    public static IEnumerable<object[]> Names(string section) =>
        Section(section).EnumerateArray().Select(c => new object[] { c.GetProperty("name").GetString()! });

    public static JsonElement Case(string section, string name) =>
        Section(section).EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    public static Tensor? Tensor(JsonElement spec) => spec.ValueKind == JsonValueKind.Null ? null : GoldenData.Build(spec);

    public static Dictionary<string, Tensor> Tensors(JsonElement obj) =>
        obj.EnumerateObject().ToDictionary(p => p.Name, p => GoldenData.Build(p.Value));

    /// <summary>|got - want| ≤ atol + rtol·|want| for every element, with the shape checked first.</summary>
    public static void AssertClose(JsonElement want, Tensor got, string context, double atol = 1e-5, double rtol = 1e-4)
    {
        var shape = want.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Xunit.Assert.True(shape.SequenceEqual(got.Shape), $"{context}: shape [{string.Join(", ", got.Shape)}], expected [{string.Join(", ", shape)}]");
        var w = want.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        var g = got.To(DType.Float64).ToArray<double>();
        for (int i = 0; i < w.Length; i++)
        {
            bool ok = double.IsNaN(w[i]) ? double.IsNaN(g[i]) : double.IsInfinity(w[i]) ? w[i] == g[i] : Math.Abs(g[i] - w[i]) <= atol + rtol * Math.Abs(w[i]);
            Xunit.Assert.True(ok, $"{context}: element {i} is {g[i]:R}, expected {w[i]:R} (atol {atol}, rtol {rtol})");
        }
    }

    public static int Int(JsonElement a, string key, int fallback) => a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;
    public static double Dbl(JsonElement a, string key, double fallback) => a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
    public static bool Bool(JsonElement a, string key, bool fallback = false) => a.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
    public static string? Str(JsonElement a, string key) => a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    public static int[] Ints(JsonElement a, string key) => a.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
