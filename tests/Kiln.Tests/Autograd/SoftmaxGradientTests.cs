using System;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// The gradients of softmax and log-softmax over the last dim of float32 tensors run one fused row pass when no graph is
/// built: equal to the rule evaluated op by op (a createGraph backward takes that path) within fp32 1e-5 and to the rule
/// on float64 copies, for rows shorter than a vector, with vector bodies and tails, and past the 1024-element blocks of
/// the sums. Another dim takes the rule; its values are checked the same way.
/// </summary>
public class SoftmaxGradientTests
{
    [Theory]
    [InlineData(false, 1, -1)]
    [InlineData(true, 1, -1)]
    [InlineData(false, 7, -1)]
    [InlineData(true, 37, -1)]
    [InlineData(false, 48, -1)]
    [InlineData(true, 2100, -1)]
    [InlineData(false, 2100, -1)]
    [InlineData(true, 37, 0)]
    [InlineData(false, 37, 0)]
    public void FusedGradientEqualsTheRule(bool log, int len, int dim)
    {
        var g = new Generator(11);
        using var x0 = Tensor.Randn([5, len], generator: g) * 3;
        using var w = Tensor.Randn([5, len], generator: g);
        double[] Grad(DType dtype, bool createGraph)
        {
            using var x = x0.To(dtype).RequiresGrad_();
            using var y = log ? x.LogSoftmax(dim) : x.Softmax(dim);
            using var loss = (y * w.To(dtype)).Sum();
            return Autograd.Grad(new[] { loss }, new[] { x }, createGraph: createGraph)[0]!.To(DType.Float64).ToArray<double>();
        }
        var fused = Grad(DType.Float32, false);
        var rule = Grad(DType.Float32, true);
        var exact = Grad(DType.Float64, false);
        for (int i = 0; i < fused.Length; i++)
        {
            Assert.True(Math.Abs(fused[i] - rule[i]) <= 1e-5 * Math.Abs(rule[i]) + 1e-6, $"[{i}] fused {fused[i]:R}, rule {rule[i]:R}");
            Assert.True(Math.Abs(fused[i] - exact[i]) <= 1e-5 * Math.Abs(exact[i]) + 1e-6, $"[{i}] fused {fused[i]:R}, float64 {exact[i]:R}");
        }
    }
}
