using System;
using Kiln;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// The fused mse_loss op (one forward pass, float32/float64 CPU tensors of one shape, mean or sum) against the
/// composition it replaces ((input - target)², then the mean or sum), for the value and both gradients; its
/// derivative by finite differences in float64, a second derivative through it, and the routes that keep the
/// composition. PyTorch's values are golden cases of FunctionalGoldenTests (mse, mse_sum).
/// </summary>
public class MseLossTests
{
    [Theory]
    [InlineData(DType.Float32, true, 37)]
    [InlineData(DType.Float32, false, 37)]
    [InlineData(DType.Float32, true, 100_003)]     // several blocks of the sum, spread over threads
    [InlineData(DType.Float64, true, 5_000)]
    [InlineData(DType.Float64, false, 70_001)]
    public void MatchesTheComposition(DType dtype, bool mean, int n)
    {
        var g = new Generator(3);
        var x0 = Tensor.Randn([n], dtype, g);
        var t0 = Tensor.Randn([n], dtype, g);
        var reduction = mean ? Reduction.Mean : Reduction.Sum;
        var (x, t) = (x0.Detach().RequiresGrad_(), t0.Detach().RequiresGrad_());
        var fused = F.MseLoss(x, t, reduction);
        Assert.NotNull(fused.GradFn);
        Assert.Equal("mse_loss", fused.GradFn!.OpName);
        (fused * 3).Backward();
        var (xc, tc) = (x0.Detach().RequiresGrad_(), t0.Detach().RequiresGrad_());
        var d = xc - tc;
        var composed = mean ? (d * d).Mean() : (d * d).Sum();
        (composed * 3).Backward();
        double tol = dtype == DType.Float32 ? 1e-5 : 1e-12;
        Assert.Equal(composed.Item<double>(), fused.Item<double>(), Math.Abs(composed.Item<double>()) * tol);
        ScaleAssert.Close(xc.Grad!, x.Grad!, tol, "input gradient");
        ScaleAssert.Close(tc.Grad!, t.Grad!, tol, "target gradient");
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        var g = new Generator(8);
        var x = Tensor.Randn([3, 4], DType.Float64, g).RequiresGrad_();
        var t = Tensor.Randn([3, 4], DType.Float64, g).RequiresGrad_();
        F.MseLoss(x, t).Backward();
        var (xa, ta) = (x.Detach().ToArray<double>(), t.Detach().ToArray<double>());
        var (gx, gt) = (x.Grad!.ToArray<double>(), t.Grad!.ToArray<double>());
        const double h = 1e-6;
        for (int i = 0; i < xa.Length; i++)
        {
            Assert.Equal(Numeric(xa, ta, i, h, 0), gx[i], 1e-8);
            Assert.Equal(Numeric(xa, ta, i, h, 1), gt[i], 1e-8);
        }
    }

    static double Numeric(double[] x, double[] t, int i, double h, int which)
    {
        double Loss(double shift)
        {
            double s = 0;
            for (int k = 0; k < x.Length; k++)
            {
                double d = x[k] + (which == 0 && k == i ? shift : 0) - t[k] - (which == 1 && k == i ? shift : 0);
                s += d * d;
            }
            return s / x.Length;
        }
        return (Loss(h) - Loss(-h)) / (2 * h);
    }

    [Fact]
    public void SecondDerivativeFlowsThroughTheGradient()
    {
        // d/dx Σ_i ∂L/∂x_i for L = mean((x - t)²) is 2/N for every element.
        var x = Tensor.Randn([2, 5], DType.Float64, new Generator(1)).RequiresGrad_();
        var t = Tensor.Randn([2, 5], DType.Float64, new Generator(2));
        var gx = Autograd.Grad([F.MseLoss(x, t)], [x], createGraph: true)[0]!;
        gx.Sum().Backward();
        foreach (var v in x.Grad!.ToArray<double>()) Assert.Equal(2.0 / 10, v, 1e-12);
    }

    [Fact]
    public void OtherCasesKeepTheComposition()
    {
        var x = Tensor.Randn([4, 3]).RequiresGrad_();
        Assert.Equal([4, 3], F.MseLoss(x, Tensor.Randn([4, 3]), Reduction.None).ShapeArray);   // elementwise: no fused op
        Assert.NotEqual("mse_loss", F.MseLoss(x, Tensor.Randn([4, 3], DType.Float64)).GradFn!.OpName);   // mixed dtypes
        var ex = Assert.Throws<KilnException>(() => F.MseLoss(x, Tensor.Randn([3, 4])));
        Assert.Contains("mse_loss", ex.Message);
        Assert.Contains("[3, 4]", ex.Message);
    }
}
