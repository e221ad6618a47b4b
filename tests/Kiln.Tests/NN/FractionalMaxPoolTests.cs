using System;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>Fractional max pooling beyond its golden cases (nn.json, with PyTorch's samples): drawn windows, indices, refusals.</summary>
public class FractionalMaxPoolTests
{
    [Fact]
    public void DrawnWindowsRepeatWithTheSeedAndIndicesPointAtTheMaxima()
    {
        using var x = Tensor.Randn([2, 3, 10, 9], DType.Float32, new Generator(1));
        var pool = new FractionalMaxPool2d(2, outputRatio: [0.5, 0.5]) { Generator = new Generator(7) };
        var (values, indices) = pool.ForwardWithIndices(x);
        Assert.Equal(new[] { 2, 3, 5, 4 }, values.ShapeArray);
        pool.Generator = new Generator(7);
        using var again = pool.Forward(x);
        Assert.Equal(values.ToArray<float>(), again.ToArray<float>());
        // Each value is the input at its index; indices rise along a row (windows move right).
        using var planes = x.Reshape([2, 3, 90]);
        using var flat = indices.Reshape([2, 3, 20]);
        using var read = planes.Gather(2, flat);
        Assert.Equal(values.Reshape([2, 3, 20]).ToArray<float>(), read.ToArray<float>());
        var idx = indices.ToArray<long>();
        for (int r = 0; r < idx.Length; r += 4)
            for (int j = 1; j < 4; j++) Assert.True(idx[r + j] % 9 > idx[r + j - 1] % 9 - 2, "windows move right along a row");
    }

    [Fact]
    public void BadArgumentsAreRefusedByName()
    {
        using var x = Tensor.Ones(1, 2, 6, 6);
        Assert.Contains("exactly one of output_size or output_ratio",
            Assert.Throws<KilnException>(() => F.FractionalMaxPool2d(x, [2], [3, 3], [0.5, 0.5])).Message);
        Assert.Contains("output size (6, 6) with kernel (2, 2) is too large",
            Assert.Throws<KilnException>(() => F.FractionalMaxPool2d(x, [2], [6, 6])).Message);
        Assert.Contains("random samples must be [1, 2, 2], got [2, 2]",
            Assert.Throws<KilnException>(() => F.FractionalMaxPool2d(x, [2], [3, 3], randomSamples: Tensor.Rand(2, 2))).Message);
        Assert.Contains("output_ratio must be between 0 and 1",
            Assert.Throws<KilnException>(() => F.FractionalMaxPool2d(x, [2], outputRatio: [1.0, 0.5])).Message);
        Assert.Contains("expected a 3D or 4D input",
            Assert.Throws<KilnException>(() => F.FractionalMaxPool2d(Tensor.Ones(6, 6), [2], [3, 3])).Message);
        Assert.Throws<KilnException>(() => new FractionalMaxPool2d(2));
    }
}
