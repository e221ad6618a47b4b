using Kiln.NN;
using Kiln.Tests.Gpu;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// Average pooling's host kernel beyond the golden cases: finite differences in float64 (first and second order, as a
/// gradient penalty needs), and the same values and gradients as the unfolded composition a CUDA tensor runs.
/// </summary>
[Collection(EmulatedCuda.Collection)]
public class AvgPoolKernelTests
{
    [Fact]
    public void GradientsAndSecondDerivativesPassFiniteDifferences()
    {
        var x = Tensor.Randn([2, 3, 5, 6], DType.Float64, new Generator(101)).RequiresGrad_();
        Assert.True(Autograd.GradCheck(t => F.AvgPool2d(t[0], [3, 2], [2, 2], [1, 1], ceilMode: true, countIncludePad: false), [x]));
        var w = Tensor.Randn([2, 3, 3, 4], DType.Float64, new Generator(102));
        // d/dx of |∇x Σ w·pool(x)²|²: the backward itself differentiated.
        Assert.True(Autograd.GradCheck(t =>
        {
            var y = F.AvgPool2d(t[0], [2], [2], [1]);
            var g = Autograd.Grad((y * y * w).Sum(), t[0], createGraph: true);
            return (g * g).Sum();
        }, [x]));
    }

    [Theory]
    [InlineData(false, true, null)]
    [InlineData(true, false, null)]
    [InlineData(true, true, 5)]
    public void TheKernelEqualsTheDevicesComposition(bool ceil, bool includePad, int? divisor)
    {
        using var cuda = new EmulatedCuda();
        var x = Tensor.Randn([2, 3, 7, 9], DType.Float32, new Generator(103));
        var upstream = Tensor.Randn([2, 3, 4, 4], DType.Float32, new Generator(104));
        (float[] Y, float[] G) Run(Device device)
        {
            var input = x.To(device).Detach().RequiresGrad_();
            var y = F.AvgPool2d(input, [3, 3], [2, 3], [1, 1], ceil, includePad, divisor);
            (y * upstream.Narrow(2, 0, y.Size(2)).Narrow(3, 0, y.Size(3)).To(device)).Sum().Backward();
            return (y.Cpu().ToArray<float>(), input.Grad!.Cpu().ToArray<float>());
        }
        var host = Run(Device.Cpu);
        var device = Run(Device.Cuda());
        Assert.Equal(device.Y.Length, host.Y.Length);
        for (int i = 0; i < host.Y.Length; i++) Assert.True(System.Math.Abs(host.Y[i] - device.Y[i]) <= 1e-5 * System.Math.Abs(device.Y[i]) + 1e-6, $"y[{i}]");
        for (int i = 0; i < host.G.Length; i++) Assert.True(System.Math.Abs(host.G[i] - device.G[i]) <= 1e-5 * System.Math.Abs(device.G[i]) + 1e-6, $"grad[{i}]");
    }
}
