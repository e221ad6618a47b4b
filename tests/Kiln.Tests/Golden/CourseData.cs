using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace Kiln.Tests.Golden;

/// <summary>tests/golden/data/course.json (make_course_golden.py): reading its tensors and comparing with them.</summary>
public static class CourseData
{
    public static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "course.json"))).RootElement;

    /// <summary>A float32 tensor of the spec's shape and values.</summary>
    public static Tensor Build(JsonElement spec) =>
        Tensor.From(spec.GetProperty("data").EnumerateArray().Select(e => (float)GoldenData.ReadDouble(e)).ToArray(),
            spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    /// <summary>Same shape, and every value within rel·|PyTorch| + abs (equal infinities pass; PyTorch's NaN needs a NaN).</summary>
    public static void Close(string what, JsonElement expected, Tensor actual, double rel = 1e-4, double abs = 1e-6)
    {
        var shape = expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.True(shape.SequenceEqual(actual.Shape), $"{what}: shape {actual.Shape}, PyTorch [{string.Join(", ", shape)}]");
        var want = expected.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        using var f64 = actual.To(DType.Float64);
        var got = f64.ToArray<double>();
        for (int i = 0; i < want.Length; i++)
        {
            if (double.IsNaN(want[i])) { Assert.True(double.IsNaN(got[i]), $"{what}[{i}]: {got[i]}, PyTorch NaN"); continue; }
            Assert.True(got[i] == want[i] || Math.Abs(got[i] - want[i]) <= rel * Math.Abs(want[i]) + abs, $"{what}[{i}]: {got[i]}, PyTorch {want[i]}");
        }
    }
}
