using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>grid_sample and affine_grid beyond their golden cases: float64 finite differences, the identity map, bad input.</summary>
public class GridSampleTests
{
    [Fact]
    public void GradientsPassFiniteDifferences()
    {
        var image = Tensor.Randn([1, 2, 3, 4], DType.Float64, new Generator(81)).RequiresGrad_();
        var grid = (Tensor.Rand([1, 2, 3, 2], DType.Float64, new Generator(82)) * 2.4 - 1.2).Detach().RequiresGrad_();
        foreach (string padding in new[] { "zeros", "border", "reflection" })
            Assert.True(Autograd.GradCheck(x => F.GridSample(x[0], x[1], paddingMode: padding), [image, grid]));
        foreach (string padding in new[] { "zeros", "border", "reflection" })
        {
            Assert.True(Autograd.GradCheck(x => F.GridSample(x[0], x[1], paddingMode: padding, alignCorners: true), [image, grid]));
            // Nearest sampling is linear in the image (its grid gradient is zero, as PyTorch's).
            Assert.True(Autograd.GradCheck(x => F.GridSample(x[0], grid.Detach(), "nearest", padding), [image]));
        }
        // Bicubic: the image and the grid through the cubic weights (each padding folds integer pixels only).
        foreach (string padding in new[] { "zeros", "border", "reflection" })
            foreach (bool align in new[] { false, true })
                Assert.True(Autograd.GradCheck(x => F.GridSample(x[0], x[1], "bicubic", padding, align), [image, grid]));
        var theta = Tensor.From(new[] { 0.93, -0.21, 0.05, 0.31, 1.07, -0.12 }, 1, 2, 3).RequiresGrad_();
        Assert.True(Autograd.GradCheck(x => F.GridSample(x[0], F.AffineGrid(x[1], [1, 2, 3, 3], alignCorners: true), alignCorners: true), [image, theta]));
    }

    [Fact]
    public void TheIdentityMapReadsTheImageBack()
    {
        var image = Tensor.Randn([2, 3, 4, 5], DType.Float32, new Generator(83));
        var identity = Tensor.From(new float[] { 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0 }, 2, 2, 3);
        foreach (bool align in new[] { false, true })
        {
            var back = F.GridSample(image, F.AffineGrid(identity, [2, 3, 4, 5], align), alignCorners: align);
            Assert.True(back.AllClose(image, 1e-5, 1e-5));
        }
    }

    [Fact]
    public void BadInputsNameTheFunction()
    {
        Assert.StartsWith("grid_sample: expected input [N, C, H, W] and grid [N, H_out, W_out, 2]", Assert.Throws<KilnException>(() => F.GridSample(Tensor.Ones(1, 2, 3, 3), Tensor.Ones(1, 2, 2, 3))).Message);
        Assert.StartsWith("grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic'", Assert.Throws<KilnException>(() => F.GridSample(Tensor.Ones(1, 2, 3, 3), Tensor.Ones(1, 2, 2, 2), "area")).Message);
        Assert.StartsWith("grid_sample: padding_mode must be", Assert.Throws<KilnException>(() => F.GridSample(Tensor.Ones(1, 2, 3, 3), Tensor.Ones(1, 2, 2, 2), paddingMode: "wrap")).Message);
        Assert.StartsWith("affine_grid: expected theta of shape [N, 2, 3]", Assert.Throws<KilnException>(() => F.AffineGrid(Tensor.Ones(2, 3, 3), [2, 1, 4, 4])).Message);
        Assert.StartsWith("affine_grid: only 2-D affine grids", Assert.Throws<KilnException>(() => F.AffineGrid(Tensor.Ones(1, 2, 3), [1, 1, 2, 4, 4])).Message);
    }
}
