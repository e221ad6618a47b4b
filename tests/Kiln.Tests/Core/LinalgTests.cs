using System;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>What the golden cases leave out: SVD reconstruction (its signs are the method's own), finite-difference gradients, errors.</summary>
public class LinalgTests
{
    static Tensor R(int seed, params int[] shape) => Tensor.Randn(shape, DType.Float64, new Generator((ulong)seed));

    [Theory]
    [InlineData(5, 3)]
    [InlineData(3, 5)]
    [InlineData(4, 4)]
    public void SvdReconstructsTheMatrixWithOrthonormalFactors(int m, int n)
    {
        using var a = R(m * 10 + n, m, n);
        var (u, s, vh) = Linalg.Svd(a);
        int k = Math.Min(m, n);
        using var back = (u * s.Unsqueeze(0)).Matmul(vh);
        Assert.True(back.AllClose(a, 1e-10, 1e-10));
        Assert.True(u.T.Matmul(u).AllClose(Tensor.Eye(k, null, DType.Float64), 1e-10, 1e-10));
        Assert.True(vh.Matmul(vh.T).AllClose(Tensor.Eye(k, null, DType.Float64), 1e-10, 1e-10));
        var values = s.ToArray<double>();
        for (int i = 1; i < k; i++) Assert.True(values[i - 1] >= values[i]);
    }

    [Fact]
    public void SvdOfARankDeficientMatrixStillHasOrthonormalFactors()
    {
        using var col = R(1, 4, 1);
        using var a = col.Matmul(R(2, 1, 3));                   // rank 1
        var (u, s, vh) = Linalg.Svd(a);
        Assert.True(u.T.Matmul(u).AllClose(Tensor.Eye(3, null, DType.Float64), 1e-8, 1e-8));
        Assert.True((u * s.Unsqueeze(0)).Matmul(vh).AllClose(a, 1e-10, 1e-10));
        Assert.True(s.ToArray<double>()[1] < 1e-12);
    }

    [Fact]
    public void InverseDeterminantAndSolvePassFiniteDifferenceChecks()
    {
        using var shift = Tensor.Eye(3, null, DType.Float64) * 3.0;
        var a = (R(3, 3, 3) + shift).Detach().RequiresGrad_();
        var b = R(4, 3, 2).RequiresGrad_();
        Assert.True(Autograd.GradCheck(t => Linalg.Inv(t[0]), [a]));
        Assert.True(Autograd.GradCheck(t => Linalg.Det(t[0]), [a]));
        Assert.True(Autograd.GradCheck(t => Linalg.Solve(t[0], t[1]), [a, b]));
        var batch = (R(5, 2, 3, 3) + shift).Detach().RequiresGrad_();
        Assert.True(Autograd.GradCheck(t => Linalg.Solve(t[0], t[1]), [a, R(6, 2, 3, 2).RequiresGrad_()]));
        Assert.True(Autograd.GradCheck(t => Linalg.Inv(t[0]).Sum(0), [batch]));
    }

    [Fact]
    public void SingularAndMisshapenInputsAreClearErrors()
    {
        using var singular = Tensor.From(new double[] { 1, 2, 2, 4 }, 2, 2);
        Assert.Contains("singular", Assert.Throws<KilnException>(() => Linalg.Inv(singular)).Message);
        Assert.Contains("singular", Assert.Throws<KilnException>(() => Linalg.Solve(singular, Tensor.Ones([2], DType.Float64))).Message);
        Assert.Equal(0.0, Linalg.Det(singular).Item<double>());
        Assert.Contains("square", Assert.Throws<KilnException>(() => Linalg.Inv(Tensor.Zeros(2, 3))).Message);
        Assert.Contains("at least 2 dimensions", Assert.Throws<KilnException>(() => Linalg.Det(Tensor.Zeros(3))).Message);
        var wide = R(7, 2, 3).RequiresGrad_();
        Assert.Contains("not implemented yet", Assert.Throws<KilnException>(() => Linalg.Qr(wide)).Message);
        using (Autograd.NoGrad()) Linalg.Qr(wide);
    }

    [Fact]
    public void QrAndSvdPassFiniteDifferenceChecks()
    {
        var tall = R(8, 5, 3).RequiresGrad_();
        Assert.True(Autograd.GradCheck(t =>
        {
            var (q, r) = Linalg.Qr(t[0]);
            return Tensor.Cat([q.Reshape(-1), r.Reshape(-1)], 0);
        }, [tall]));
        // Sign-free functions of the factors (a loss must not depend on the singular vectors' signs).
        foreach (var shape in new[] { new[] { 5, 3 }, new[] { 3, 5 }, new[] { 4, 4 } })
        {
            var a = R(9 + shape[0], shape).RequiresGrad_();
            Assert.True(Autograd.GradCheck(t =>
            {
                var (u, sv, vh) = Linalg.Svd(t[0]);
                return Tensor.Cat([sv, (u * u).Reshape(-1), (vh * vh).Reshape(-1), u.Matmul(vh).Reshape(-1)], 0);
            }, [a]), $"SVD of [{shape[0]}, {shape[1]}]");
        }
    }
}
