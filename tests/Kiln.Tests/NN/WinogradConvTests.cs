using System;
using Kiln;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Conv;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// The Winograd routes (float32 forwards and input gradients of 3×3 stride-1 layers with 16+ channels on AVX-512 by
/// F(2×2, 3×3), their weight gradients by F(3×3, 2×2)) against the float64 route (im2col + GEMM) and against the float32 direct route with the Winograd route
/// switched off: odd output sizes, tile rows rounded up to eight tiles, paddings 0-2, more input channels than one
/// GEMM k-block, output channels not a multiple of the micro-kernel's eight, several threads. PyTorch's values for two
/// such layers are golden cases of ModuleGoldenTests (conv2d_winograd_*).
/// </summary>
[Collection(nameof(WinogradConvTests))]   // switches the route off and on: not beside another test doing so
public class WinogradConvTests
{
    public static readonly TheoryData<int, int, int, int, int, int, int> Shapes = new()
    {
        // batch, in, out, height, width, padding, threads
        { 2, 64, 64, 32, 32, 1, 2 },    // a ResNet-18 block's layer (the bench's, fewer images)
        { 3, 16, 24, 17, 24, 1, 1 },    // odd output height; 12 tiles a row rounded up to 16
        { 1, 32, 40, 15, 30, 0, 2 },    // no padding (its input gradient pads by 2); 40 outputs: a partial channel panel
        { 2, 20, 16, 12, 30, 2, 1 },    // padding 2: outputs 14 × 32 (its input gradient pads by 0)
        { 1, 300, 17, 9, 31, 1, 2 },    // 300 input channels: two k-blocks; odd width: a half tile dropped
        { 2, 16, 16, 33, 47, 1, 2 },    // both sizes odd, 24 tiles a row
        { 2, 32, 32, 14, 14, 1, 2 },    // 7 tiles a row rounded up to 8 (a ResNet's 14 × 14 stage)
        { 1, 24, 16, 11, 12, 1, 1 },    // 6 tiles a row, the fewest the route takes; odd height
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OutputAndGradientsMatchTheFloat64RouteAndTheDirectRoute(int n, int cin, int cout, int h, int w, int pad, int threads) =>
        Check(n, cin, cout, h, w, pad, pad, threads);

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(0, 2)]
    public void UnequalPaddingsMatchTheFloat64Route(int padH, int padW) => Check(2, 20, 24, 13, 28, padH, padW, 2);

    static void Check(int n, int cin, int cout, int h, int w, int padH, int padW, int threads)
    {
        if (!WinogradConv.Enabled) return;   // KILN_WINOGRAD=0 in the environment: the route is off for the process
        int oh = h + 2 * padH - 2, ow = w + 2 * padW - 2;
        bool fast = WinogradConv.Handles(Shape(n, cin, h, w, cout, oh, ow, (padH, padW)));
        // The shapes are chosen to take the route wherever the hardware has it, input gradient included.
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512F.IsSupported && Kiln.Kernels.Gemm.Sgemm.UseAvx512, fast);
        if (fast) Assert.True(WinogradConv.Handles(Shape(n, cout, oh, ow, cin, h, w, (2 - padH, 2 - padW))));

        var g = new Generator(5);
        var x = Tensor.Randn([n, cin, h, w], DType.Float64, g);
        var weight = Tensor.Randn([cout, cin, 3, 3], DType.Float64, g) * 0.2;
        var bias = Tensor.Randn([cout], DType.Float64, g);
        var upstream = Tensor.Randn([n, cout, oh, ow], DType.Float64, g);
        int[] pad = [padH, padW];
        int saved = Threads.Count;
        Threads.Count = threads;
        try
        {
            var (y64, dx64, dw64) = Run(x, weight, bias, upstream, pad);
            var (y32, dx32, dw32) = Run(x.To(DType.Float32), weight.To(DType.Float32), bias.To(DType.Float32), upstream.To(DType.Float32), pad);
            WinogradConv.Enabled = false;
            var (yDirect, dxDirect, dwDirect) = Run(x.To(DType.Float32), weight.To(DType.Float32), bias.To(DType.Float32), upstream.To(DType.Float32), pad);
            WinogradConv.Enabled = true;
            // Dot products of 9·C terms: 1e-5 of the output's scale (the transforms' rounding stays near 1e-7 of it).
            ScaleAssert.Close(y64, y32, 1e-5, "output");
            ScaleAssert.Close(dx64, dx32, 1e-5, "input gradient");
            ScaleAssert.Close(yDirect.To(DType.Float64), y32, 1e-5, "output against the direct route");
            ScaleAssert.Close(dxDirect.To(DType.Float64), dx32, 1e-5, "input gradient against the direct route");
            // Sums over every output position of the batch, accumulated per transform position before the 3×3 is formed.
            ScaleAssert.Close(dw64, dw32, 1e-5, "weight gradient");
            ScaleAssert.Close(dwDirect.To(DType.Float64), dw32, 1e-5, "weight gradient against the direct route");
        }
        finally
        {
            WinogradConv.Enabled = true;
            Threads.Count = saved;
        }
    }

    [Fact]
    public void OtherLayersKeepTheirRoutes()
    {
        // Stride 2, a 5×5 kernel, dilation, groups, few channels, 4- and 5-tile rows, 9-tile rows (rounding adds 7/9).
        Assert.False(WinogradConv.Handles(Shape(1, 64, 32, 32, 64, 16, 16, 1, stride: 2)));
        Assert.False(WinogradConv.Handles(Shape(1, 64, 32, 32, 64, 32, 32, 2, k: 5)));
        Assert.False(WinogradConv.Handles(Shape(1, 64, 32, 32, 64, 30, 30, 1, dilation: 2)));
        Assert.False(WinogradConv.Handles(Shape(1, 64, 32, 32, 64, 32, 32, 1, groups: 2)));
        Assert.False(WinogradConv.Handles(Shape(1, 3, 32, 32, 64, 32, 32, 1)));
        Assert.False(WinogradConv.Handles(Shape(1, 64, 32, 32, 8, 32, 32, 1)));
        Assert.False(WinogradConv.Handles(Shape(1, 64, 8, 8, 64, 8, 8, 1)));
        Assert.False(WinogradConv.Handles(Shape(1, 64, 10, 10, 64, 10, 10, 1)));
        Assert.False(WinogradConv.Handles(Shape(1, 64, 18, 18, 64, 18, 18, 1)));
        if (!WinogradConv.Handles(Shape(1, 64, 32, 32, 64, 32, 32, 1))) return;   // no AVX-512, or switched off
        // 16 input channels: the weight gradient keeps the direct route unless that is the few-output-channel one.
        Assert.True(WinogradConv.Handles(Shape(1, 16, 32, 32, 32, 32, 32, 1)) && !WinogradConv.HandlesWeightGrad(Shape(1, 16, 32, 32, 32, 32, 32, 1)));
        Assert.True(WinogradConv.HandlesWeightGrad(Shape(1, 16, 32, 32, 16, 32, 32, 1)));
        Assert.True(WinogradConv.HandlesWeightGrad(Shape(1, 24, 32, 32, 32, 32, 32, 1)));
    }

    static ConvKernel.Shape Shape(int n, int c, int h, int w, int o, int oh, int ow, int pad, int k = 3, int stride = 1, int dilation = 1, int groups = 1) =>
        Shape(n, c, h, w, o, oh, ow, (pad, pad), k, stride, dilation, groups);

    static ConvKernel.Shape Shape(int n, int c, int h, int w, int o, int oh, int ow, (int H, int W) pad, int k = 3, int stride = 1, int dilation = 1, int groups = 1) => new()
    {
        N = n,
        C = c,
        H = h,
        W = w,
        O = o,
        Groups = groups,
        OH = oh,
        OW = ow,
        G = new ConvGeometry("conv2d", k, k, dilation, dilation, pad.H, pad.W, stride, stride),
    };

    static (Tensor Y, Tensor Dx, Tensor Dw) Run(Tensor x, Tensor w, Tensor b, Tensor upstream, int[] pad)
    {
        x = x.Detach().RequiresGrad_();
        w = w.Detach().RequiresGrad_();
        var y = F.Conv2d(x, w, b, padding: pad);
        (y * upstream).Sum().Backward();
        return (y.Detach(), x.Grad!, w.Grad!);
    }
}
