using System;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>mode, nanmedian and histogram beyond the golden values (course.json): refusals and the scalar cases.</summary>
public class ModeHistogramTests
{
    static void Throws(Action a, string text) => Assert.Contains(text, Assert.Throws<KilnException>(a).Message);

    [Fact]
    public void BadArgumentsNameTheOpAndShapes()
    {
        Throws(() => Tensor.Zeros(2, 0).Mode(1), "mode: cannot compute the mode of an empty dimension 1 (shape [2, 0])");
        Throws(() => Tensor.Zeros(0).Nanmedian(0), "nanmedian: cannot compute the median of an empty dimension 0");
        Throws(() => Tensor.Ones(4).Histogram(0), "histogram: bins must be > 0, but got 0");
        Throws(() => Tensor.Ones(4).Histogram(3, weight: Tensor.Ones(3)), "histogram: weight [3] must have the input's shape [4]");
        Throws(() => Tensor.Ones(4).Histogram(Tensor.From(new[] { 0f, 2f, 1f }, 3)), "histogram: bin edges must be increasing, got 2 then 1 at 2");
        Throws(() => Tensor.Ones(4).Histogram(Tensor.From(new[] { 0f }, 1)), "histogram: bins must be a 1-D tensor of at least 2 edges");
        Throws(() => Tensor.From(new long[] { 1, 2 }, 2).Histogram(3), "histogram: expected a floating point input, got Int64");
        Throws(() => Tensor.Ones(4).Histogram(3, range: (2.0, 1.0)), "histogram: max must be larger than min, got min 2 and max 1");
    }

    [Fact]
    public void ScalarsAreTheirOwnModeAndMedian()
    {
        var x = Tensor.Scalar(2.5);
        var (value, index) = x.Mode();
        Assert.Equal(2.5, value.Item<double>());
        Assert.Equal(0L, index.Item<long>());
        Assert.Equal(2.5, x.Nanmedian().Item<double>());
        // Values outside the range are left out; the right edge counts in the last bin.
        var (hist, edges) = Tensor.From(new[] { -5.0, 0.0, 1.0, 2.0, 9.0 }, 5).Histogram(2, range: (0.0, 2.0));
        Assert.Equal(new[] { 1.0, 2.0 }, hist.ToArray<double>());
        Assert.Equal(new[] { 0.0, 1.0, 2.0 }, edges.ToArray<double>());
    }
}
