using System;
using Kiln;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// Compares a kernel's result with a reference element by element, against the reference's scale (its largest magnitude):
/// the error a sum of many terms makes is relative to the terms, not to each (possibly cancelling) result.
/// </summary>
static class ScaleAssert
{
    /// <summary>Every |actual - expected| within <paramref name="tolerance"/> × max(<paramref name="minScale"/>, max |expected|).</summary>
    public static void Close(Tensor expected, Tensor actual, double tolerance, string what, double minScale = 0)
    {
        var e = expected.ToArray<double>();
        var a = actual.To(DType.Float64).ToArray<double>();
        Assert.Equal(e.Length, a.Length);
        double scale = minScale;
        foreach (var v in e) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance * scale, $"{what}[{i}]: {a[i]} vs {e[i]} (scale {scale})");
    }
}
