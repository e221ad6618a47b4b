using Kiln;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// The fused max pool's tie and NaN rules, with PyTorch 1.13's output for the same input written out: the first of
/// equal maxima (row-major in the window) wins, a NaN wins its window, and of several NaNs the last one does.
/// </summary>
public class MaxPoolRulesTests
{
    static Tensor Input() => Tensor.From(new float[]
    {
        1, float.NaN, 3, float.NaN,
        2, 2, 0, 0,
        5, 5, 1, 1,
        5, 5, 1, 7,
    }, 1, 1, 4, 4);

    [Fact]
    public void NonOverlappingWindows()
    {
        var (values, indices) = F.MaxPool2dWithIndices(Input(), [2]);
        var v = values.ToArray<float>();
        Assert.True(float.IsNaN(v[0]) && float.IsNaN(v[1]));
        Assert.Equal(new[] { 5f, 7f }, v[2..]);
        Assert.Equal(new long[] { 1, 3, 8, 15 }, indices.ToArray<long>());
    }

    [Fact]
    public void GradientGoesToTheChosenPosition()
    {
        var x = Input().RequiresGrad_();
        F.MaxPool2d(x, [2]).Sum().Backward();
        Assert.Equal(new float[] { 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1 }, x.Grad!.ToArray<float>());
    }

    [Fact]
    public void OverlappingPaddedWindowsTakeTheLastNaN()
    {
        var (values, indices) = F.MaxPool2dWithIndices(Input(), [3], [1], [1]);
        var v = values.ToArray<float>();
        for (int i = 0; i < 8; i++) Assert.True(float.IsNaN(v[i]));
        Assert.Equal(new[] { 5f, 5, 7, 7, 5, 5, 7, 7 }, v[8..]);
        Assert.Equal(new long[] { 1, 1, 3, 3, 1, 1, 3, 3, 8, 8, 15, 15, 8, 8, 15, 15 }, indices.ToArray<long>());
    }

    [Fact]
    public void Float64TakesTheScalarPathWithTheSameRules()
    {
        var (values, indices) = F.MaxPool2dWithIndices(Input().To(DType.Float64), [3], [1], [1]);
        Assert.Equal(new long[] { 1, 1, 3, 3, 1, 1, 3, 3, 8, 8, 15, 15, 8, 8, 15, 15 }, indices.ToArray<long>());
        Assert.Equal(7.0, values.ToArray<double>()[15]);
    }

    [Fact]
    public void TheVectorTwoByTwoPathKeepsTheRules()
    {
        // Rows long enough for the eight-output blocks (plus a tail), values with many ties, NaNs (two in some windows).
        var g = new Generator(3);
        var data = Tensor.RandInt(0, 3, [2, 3, 7, 37], generator: g).To(DType.Float32).ToArray<float>();
        for (int k = 0; k < data.Length; k += 13) data[k] = float.NaN;
        for (int k = 1; k < data.Length; k += 29) data[k] = float.NaN;
        var x = Tensor.From(data, 2, 3, 7, 37);
        var (v32, i32) = F.MaxPool2dWithIndices(x, [2]);
        var (v64, i64) = F.MaxPool2dWithIndices(x.To(DType.Float64), [2]);   // float64 runs the general kernel
        Assert.Equal(new[] { 2, 3, 3, 18 }, v32.ShapeArray);
        Assert.Equal(i64.ToArray<long>(), i32.ToArray<long>());
        var a = v32.ToArray<float>();
        var b = v64.ToArray<double>();
        for (int k = 0; k < a.Length; k++) Assert.True(float.IsNaN(a[k]) ? double.IsNaN(b[k]) : a[k] == b[k], $"output {k}: {a[k]} vs {b[k]}");
    }
}
