using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln;

namespace Kiln.Tests.Golden;

/// <summary>Loads tests/golden/data/*.json (written by tests/golden/make_golden.py from PyTorch) and turns specs into tensors.</summary>
public static class GoldenData
{
    static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "tensor_ops.json"))));

    public static JsonElement Root => Doc.Value.RootElement;

    public static IEnumerable<object[]> CaseNames() =>
        Root.GetProperty("cases").EnumerateArray().Select(c => new object[] { c.GetProperty("name").GetString()! });

    public static JsonElement Case(string name) =>
        Root.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    /// <summary>Builds the tensor a spec describes: base data, dtype, then the recorded view ops.</summary>
    public static Tensor Build(JsonElement spec) => ApplyViews(BuildBase(spec), spec);

    /// <summary>Applies the spec's recorded view ops (transpose, slice, expand, ...) to a base tensor.</summary>
    public static Tensor ApplyViews(Tensor t, JsonElement spec)
    {
        if (spec.TryGetProperty("view", out var views))
            foreach (var v in views.EnumerateArray()) t = ApplyView(t, v);
        return t;
    }

    /// <summary>The base tensor of a spec, before its views.</summary>
    public static Tensor BuildBase(JsonElement spec)
    {
        var shape = spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var dtype = DTypes.Parse(spec.GetProperty("dtype").GetString()!);
        var data = spec.GetProperty("data").EnumerateArray().ToArray();
        switch (dtype)
        {
            case DType.Float64:
                return Tensor.From(data.Select(ReadDouble).ToArray(), shape);
            case DType.Float32:
            case DType.Float16:
            case DType.BFloat16:
                var f = Tensor.From(data.Select(e => (float)ReadDouble(e)).ToArray(), shape);
                return dtype == DType.Float32 ? f : f.To(dtype);
            case DType.Bool:
                return Tensor.From(data.Select(e => e.GetInt64() != 0).ToArray(), shape);
            default:
                return Tensor.From(data.Select(e => e.GetInt64()).ToArray(), shape).To(dtype);
        }
    }

    public static double ReadDouble(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch { "nan" => double.NaN, "inf" => double.PositiveInfinity, _ => double.NegativeInfinity }
        : e.GetDouble();

    static Tensor ApplyView(Tensor t, JsonElement v)
    {
        var a = v.EnumerateArray().ToArray();
        return a[0].GetString() switch
        {
            "t" => t.Transpose(-1, -2),
            "slice" => t.Slice(a[1].GetInt32(), a[2].GetInt64(), a[3].GetInt64(), a[4].GetInt64()),
            "expand" => t.Expand(a[1].EnumerateArray().Select(e => e.GetInt32()).ToArray()),
            "permute" => t.Permute(a[1].EnumerateArray().Select(e => e.GetInt32()).ToArray()),
            "select" => t.Select(a[1].GetInt32(), a[2].GetInt64()),
            var other => throw new InvalidOperationException($"unknown view {other}"),
        };
    }

    /// <summary>Absolute and relative tolerance of a case's category for a result dtype.</summary>
    public static (double atol, double rtol) Tolerance(string tol, DType dtype)
    {
        if (tol == "exact" || !dtype.IsFloatingPoint()) return (0, 0);
        if (tol == "float16" || dtype == DType.Float16) return (1e-3, 1e-3);
        if (tol == "bfloat16" || dtype == DType.BFloat16) return (1e-2, 1e-2);
        bool f64 = dtype == DType.Float64;
        return tol switch
        {
            "elementwise" => f64 ? (1e-12, 1e-10) : (1e-6, 1e-5),
            _ => f64 ? (1e-10, 1e-9) : (1e-5, 1e-4), // reduction, matmul
        };
    }

    /// <summary>Asserts shape, dtype and every value (NaN matches NaN; infinities must be equal).</summary>
    public static void AssertClose(JsonElement expected, Tensor actual, string tol, string context)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var dtype = DTypes.Parse(expected.GetProperty("dtype").GetString()!);
        Xunit.Assert.True(shape.SequenceEqual(actual.Shape), $"{context}: shape [{string.Join(", ", actual.Shape)}], expected [{string.Join(", ", shape)}]");
        Xunit.Assert.True(dtype == actual.DType, $"{context}: dtype {actual.DType}, expected {dtype}");
        var (atol, rtol) = Tolerance(tol, dtype);
        var want = expected.GetProperty("data").EnumerateArray().Select(ReadDouble).ToArray();
        var got = actual.To(DType.Float64).ToArray<double>();
        if (!dtype.IsFloatingPoint())
        {
            // Integers compare exactly as long values (int64 beyond 2^53 stays exact).
            var wantL = expected.GetProperty("data").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var gotL = actual.To(DType.Int64).ToArray<long>();
            for (int i = 0; i < wantL.Length; i++)
                Xunit.Assert.True(wantL[i] == gotL[i], $"{context}: element {i} is {gotL[i]}, expected {wantL[i]}");
            return;
        }
        for (int i = 0; i < want.Length; i++)
        {
            double w = want[i], g = got[i];
            bool ok = double.IsNaN(w) ? double.IsNaN(g) : double.IsInfinity(w) ? w == g : Math.Abs(g - w) <= atol + rtol * Math.Abs(w);
            Xunit.Assert.True(ok, $"{context}: element {i} is {g:R}, expected {w:R} (atol {atol}, rtol {rtol})");
        }
    }
}
