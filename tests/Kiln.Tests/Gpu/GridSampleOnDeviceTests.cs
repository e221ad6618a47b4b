using Kiln.NN;
using Kiln.Tests.Gpu;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// The host kernel of grid_sample against the composition of gathers and pointwise ops that a CUDA tensor runs (the
/// emulated device): points reaching far outside the image, so every padding rule folds them; values and both gradients.
/// </summary>
[Collection(EmulatedCuda.Collection)]
public class GridSampleOnDeviceTests
{
    [Theory]
    [InlineData("bilinear", "zeros", false)]
    [InlineData("bilinear", "reflection", false)]
    [InlineData("bilinear", "reflection", true)]
    [InlineData("bilinear", "border", true)]
    [InlineData("nearest", "reflection", true)]
    [InlineData("nearest", "border", false)]
    public void TheHostKernelEqualsTheDevicesComposition(string mode, string padding, bool align)
    {
        using var cuda = new EmulatedCuda();
        var image = Tensor.Randn([2, 3, 7, 9], DType.Float32, new Generator(84));
        var grid = Tensor.Rand([2, 5, 6, 2], DType.Float32, new Generator(85)) * 3.2 - 1.6;
        var upstream = Tensor.Randn([2, 3, 5, 6], DType.Float32, new Generator(86));
        (float[] Out, float[] GradImage, float[] GradGrid) Run(Device device)
        {
            var x = image.To(device).Detach().RequiresGrad_();
            var g = grid.To(device).Detach().RequiresGrad_();
            var y = F.GridSample(x, g, mode, padding, align);
            (y * upstream.To(device)).Sum().Backward();
            return (y.Cpu().ToArray<float>(), x.Grad!.Cpu().ToArray<float>(), g.Grad?.Cpu().ToArray<float>() ?? new float[grid.Numel]);
        }
        var kernel = Run(Device.Cpu);
        var composed = Run(Device.Cuda());
        Close(composed.Out, kernel.Out, "output");
        Close(composed.GradImage, kernel.GradImage, "image gradient");
        // Nearest sampling's grid gradient is zero (PyTorch's too).
        if (mode == "bilinear") Close(composed.GradGrid, kernel.GradGrid, "grid gradient");
        else Assert.All(kernel.GradGrid, v => Assert.Equal(0f, v));
    }

    static void Close(float[] want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(System.Math.Abs(want[i] - got[i]) <= 1e-4 * System.Math.Abs(want[i]) + 1e-5, $"{what}[{i}]: {got[i]} vs {want[i]}");
    }
}
