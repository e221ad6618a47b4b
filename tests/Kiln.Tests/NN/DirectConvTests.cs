using System;
using Kiln;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// The direct float32 convolution (stride 1, ≤ 16 output channels) against the float64 route (im2col + GEMM), for
/// the output and all three gradients, over paddings, odd sizes and channel counts on both sides of its limits.
/// </summary>
public class DirectConvTests
{
    [Theory]
    [InlineData(1, 6, 5, 2, 28, 28)]     // LeNet's first layer
    [InlineData(6, 16, 5, 0, 14, 14)]    // LeNet's second
    [InlineData(3, 5, 3, 1, 9, 7)]       // odd sizes, a partial channel block
    [InlineData(20, 7, 3, 2, 6, 11)]     // more than 16 input channels: the input gradient takes the GEMM route
    [InlineData(2, 16, 1, 0, 5, 5)]      // 1x1 kernel
    [InlineData(4, 3, 4, 3, 5, 6)]       // even kernel, padding close to the kernel
    public void MatchesTheFloat64Route(int cin, int cout, int k, int pad, int h, int w)
    {
        var g = new Generator(11);
        var x = Tensor.Randn([3, cin, h, w], DType.Float64, g);
        var weight = Tensor.Randn([cout, cin, k, k], DType.Float64, g) * 0.3;
        var bias = Tensor.Randn([cout], DType.Float64, g);
        var upstream = Tensor.Randn([3, cout, h + 2 * pad - k + 1, w + 2 * pad - k + 1], DType.Float64, g);

        var (y64, grads64) = Run(x, weight, bias, upstream, pad);
        var (y32, grads32) = Run(x.To(DType.Float32), weight.To(DType.Float32), bias.To(DType.Float32), upstream.To(DType.Float32), pad);
        ScaleAssert.Close(y64, y32, 1e-4, "output", minScale: 1);
        string[] names = ["input", "weight", "bias"];
        for (int i = 0; i < 3; i++) ScaleAssert.Close(grads64[i], grads32[i], 1e-4, names[i] + " gradient", minScale: 1);
    }

    static (Tensor Y, Tensor[] Grads) Run(Tensor x, Tensor w, Tensor b, Tensor upstream, int pad)
    {
        x = x.Detach().RequiresGrad_(); w = w.Detach().RequiresGrad_(); b = b.Detach().RequiresGrad_();
        var y = F.Conv2d(x, w, b, padding: [pad, pad]);
        (y * upstream).Sum().Backward();
        return (y.Detach(), [x.Grad!, w.Grad!, b.Grad!]);
    }
}
