using System.Linq;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// The fused conv2d kernels (implicit-GEMM paths with vector gathers for rows of neighbouring pixels, and the
/// per-image fallback) against a float64 reference built from unfold and matmul, values and all three gradients.
/// </summary>
public class ConvKernelTests
{
    [Theory]
    [InlineData(1, 1, 1, 1, 4, 6)]     // stride 1, few outputs: the direct kernels
    [InlineData(2, 0, 1, 1, 4, 6)]     // stride 2: element-by-element gathers
    [InlineData(1, 2, 2, 1, 4, 6)]     // dilation
    [InlineData(1, 1, 1, 2, 4, 6)]     // groups: the per-image GEMM path
    [InlineData(1, 1, 1, 1, 4, 40)]    // stride 1, many outputs: output-stationary implicit GEMM (a partial channel panel); dx direct
    [InlineData(1, 1, 1, 1, 40, 20)]   // C·kk past one k-block; dx as a stride-1 forward with flipped weights
    [InlineData(1, 0, 1, 1, 20, 20)]   // no padding: dx's forward pads by K-1
    [InlineData(1, 2, 2, 1, 20, 20)]   // dilated stride-1 forward; dx by the column route
    [InlineData(2, 1, 1, 1, 20, 40)]   // stride 2 with many outputs: pixel-major implicit GEMM
    [InlineData(1, 2, 1, 1, 17, 33)]   // padding 2 (dx's forward unpadded) and channel counts off the vector width
    public void FusedConvMatchesUnfoldMatmulReference(int stride, int padding, int dilation, int groups, int cin, int cout) =>
        MatchesReference(stride, padding, dilation, groups, cin, cout, 21, 19);

    [Theory]
    [InlineData(1, 20, 16, 16, 16)]    // rows of whole vectors: tiles straight into the output, an image's last tile narrower
    [InlineData(1, 20, 40, 4, 32)]     // a partial channel panel (40 = 5 x 8), two vectors per row, a last tile of two
    [InlineData(1, 13, 24, 5, 48)]     // three vectors per row; dx's forward has 13 outputs (a partial panel)
    [InlineData(0, 20, 24, 16, 16)]    // no padding: 14-wide outputs take the padded-width route, dx's 16-wide forward the row route
    public void RowVectorConvMatchesReference(int padding, int cin, int cout, int h, int w) =>
        MatchesReference(1, padding, 1, 1, cin, cout, h, w);

    static void MatchesReference(int stride, int padding, int dilation, int groups, int cin, int cout, int h, int width)
    {
        var g = new Generator(17);
        var x = Tensor.Randn([3, cin, h, width], DType.Float32, g).RequiresGrad_();
        var w = (Tensor.Randn([cout, cin / groups, 3, 3], DType.Float32, g) * 0.2).Detach().RequiresGrad_();
        var b = Tensor.Randn([cout], DType.Float32, g).RequiresGrad_();
        var y = F.Conv2d(x, w, b, [stride], [padding], [dilation], groups);
        var cot = Tensor.Randn(y.ShapeArray, DType.Float32, g);
        (y * cot).Sum().Backward();

        // Reference in float64: unfold, one matmul per group, bias.
        var xd = x.Detach().To(DType.Float64).RequiresGrad_();
        var wd = w.Detach().To(DType.Float64).RequiresGrad_();
        var bd = b.Detach().To(DType.Float64).RequiresGrad_();
        var cols = F.Unfold(xd, [3, 3], [dilation], [padding], [stride]);                 // [N, C·9, L]
        int n = 3, l = cols.Size(2), cg = cin / groups, og = cout / groups;
        var parts = Enumerable.Range(0, groups).Select(gi =>
            wd.Narrow(0, gi * og, og).Reshape(og, -1).Matmul(cols.Narrow(1, gi * cg * 9, cg * 9))).ToArray();
        var yd = (Tensor.Cat(parts, 1) + bd.View(1, cout, 1)).View(y.ShapeArray);
        (yd * cot.To(DType.Float64)).Sum().Backward();

        Close(yd, y);
        Close(xd.Grad!, x.Grad!);
        Close(wd.Grad!, w.Grad!);
        Close(bd.Grad!, b.Grad!);
        Assert.Equal(n, y.Size(0));
        Assert.True(l > 8);
    }

    [Fact]
    public void StrideOneKernelsMatchWithTheAvx2MicroKernel()
    {
        // The output-stationary forward with the 6x16 micro-kernel (machines without AVX-512).
        bool saved = Kiln.Kernels.Gemm.Sgemm.UseAvx512;
        try
        {
            Kiln.Kernels.Gemm.Sgemm.UseAvx512 = false;
            FusedConvMatchesUnfoldMatmulReference(1, 1, 1, 1, 40, 20);
            MatchesReference(1, 1, 1, 1, 20, 20, 5, 24);   // rows of whole 8-lane vectors, a last tile of one vector
            MatchesReference(1, 1, 1, 1, 20, 20, 4, 16);
        }
        finally { Kiln.Kernels.Gemm.Sgemm.UseAvx512 = saved; }
    }

    static void Close(Tensor want, Tensor got)
    {
        Assert.Equal(want.Shape, got.Shape);
        var a = want.ToArray<double>();
        var c = got.To(DType.Float64).ToArray<double>();
        for (int i = 0; i < a.Length; i++)
            Assert.True(System.Math.Abs(a[i] - c[i]) <= 1e-4 + 1e-4 * System.Math.Abs(a[i]), $"element {i}: {c[i]} vs {a[i]}");
    }
}
