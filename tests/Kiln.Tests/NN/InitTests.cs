using System;
using System.Linq;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>Initialisers follow PyTorch's fan and gain rules: bounds, standard deviations, orthogonality.</summary>
public class InitTests
{
    static (double Mean, double Std, double Min, double Max) Stats(Tensor t)
    {
        var v = t.To(DType.Float64).ToArray<double>();
        double mean = v.Average();
        return (mean, Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)), v.Min(), v.Max());
    }

    [Fact]
    public void FansAndGains()
    {
        Assert.Equal((3 * 5 * 5, 8 * 5 * 5), Init.CalculateFans(Tensor.Empty([8, 3, 5, 5])));
        Assert.Equal(Math.Sqrt(2), Init.CalculateGain("relu"));
        Assert.Equal(5.0 / 3, Init.CalculateGain("tanh"));
        Assert.Equal(Math.Sqrt(2.0 / (1 + 0.2 * 0.2)), Init.CalculateGain("leaky_relu", 0.2));
        Assert.Equal(0.75, Init.CalculateGain("selu"));
        Assert.Throws<KilnException>(() => Init.CalculateFans(Tensor.Empty([5])));
        Assert.Throws<KilnException>(() => Init.CalculateGain("swish"));
    }

    [Fact]
    public void KaimingAndXavierBoundsAndSpread()
    {
        var w = Tensor.Empty([256, 512]);
        Init.KaimingUniform_(w, nonlinearity: "relu", generator: new Generator(1));
        double bound = Math.Sqrt(2) * Math.Sqrt(3.0 / 512);
        var s = Stats(w);
        Assert.True(s.Max <= bound && s.Min >= -bound);
        Assert.InRange(s.Std, bound / Math.Sqrt(3) * 0.98, bound / Math.Sqrt(3) * 1.02);

        Init.KaimingNormal_(w, mode: "fan_out", nonlinearity: "relu", generator: new Generator(2));
        Assert.InRange(Stats(w).Std, Math.Sqrt(2.0 / 256) * 0.98, Math.Sqrt(2.0 / 256) * 1.02);

        Init.XavierUniform_(w, gain: 2, generator: new Generator(3));
        double xb = 2 * Math.Sqrt(6.0 / (256 + 512));
        s = Stats(w);
        Assert.True(s.Max <= xb && s.Min >= -xb);
        Init.XavierNormal_(w, generator: new Generator(4));
        Assert.InRange(Stats(w).Std, Math.Sqrt(2.0 / 768) * 0.98, Math.Sqrt(2.0 / 768) * 1.02);
    }

    [Fact]
    public void LinearDefaultInitMatchesPyTorchBounds()
    {
        var l = new Linear(100, 300);
        double b = 1 / Math.Sqrt(100);
        var s = Stats(l.Weight);
        Assert.True(s.Max <= b && s.Min >= -b && s.Max > 0.9 * b);
        s = Stats(l.Bias!);
        Assert.True(s.Max <= b && s.Min >= -b);
    }

    [Fact]
    public void TruncNormalStaysInsideAndHasTheTruncatedSpread()
    {
        var t = Tensor.Empty([100000]);
        Init.TruncNormal_(t, mean: 0.5, std: 1, a: -1, b: 2, generator: new Generator(5));
        var s = Stats(t);
        Assert.True(s.Min >= -1 && s.Max <= 2);
        // Mean of N(0.5, 1) truncated to [-1.5σ, 1.5σ] around its mean is 0.5; its std is about 0.7506.
        Assert.InRange(s.Mean, 0.49, 0.51);
        Assert.InRange(s.Std, 0.74, 0.76);
    }

    [Fact]
    public void OrthogonalRowsOrColumnsAreOrthonormal()
    {
        foreach (var shape in new[] { new[] { 6, 10 }, [10, 6], [4, 2, 3] })
        {
            var t = Tensor.Empty(shape);
            Init.Orthogonal_(t, gain: 2, generator: new Generator(7));
            var m = t.Reshape(shape[0], -1);
            var prod = shape[0] <= m.Size(1) ? m.Matmul(m.T) : m.T.Matmul(m);
            int n = prod.Size(0);
            var v = prod.ToArray<float>();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    Assert.Equal(i == j ? 4.0 : 0.0, v[i * n + j], 4);
        }
    }

    [Fact]
    public void ConstantsAndDoNotRecordAutograd()
    {
        var p = Module.Parameter(Tensor.Empty([3]));
        Init.Constant_(p, 0.25);
        Assert.All(p.ToArray<float>(), v => Assert.Equal(0.25f, v));
        Assert.True(p.IsLeaf);
        Init.Ones_(p);
        Assert.All(p.ToArray<float>(), v => Assert.Equal(1f, v));
        Init.Zeros_(p);
        Assert.All(p.ToArray<float>(), v => Assert.Equal(0f, v));
        Init.Uniform_(p, 2, 3);
        Assert.All(p.ToArray<float>(), v => Assert.InRange(v, 2f, 3f));
    }
}
