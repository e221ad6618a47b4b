using System;
using System.Linq;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// The smaller torch functions beyond their golden cases: float64 finite differences for the differentiable ones,
/// moments of the random fills over seeded draws, and a clear error for each kind of bad input.
/// </summary>
public class TorchSurfaceTests
{
    [Fact]
    public void GradientsPassFiniteDifferences()
    {
        var g = new Generator(31);
        var a = Tensor.Randn([3, 4], DType.Float64, g).RequiresGrad_();
        var b = Tensor.Randn([3, 4], DType.Float64, g).RequiresGrad_();
        Assert.True(Autograd.GradCheck(x => x[0].Fmax(x[1]), [a, b]));
        Assert.True(Autograd.GradCheck(x => x[0].Fmin(x[1]), [a, b]));
        var index = Tensor.From(new long[] { 0, 5, -1, 11, 5 }, 5);
        Assert.True(Autograd.GradCheck(x => x[0].Take(index), [a]));
        var source = Tensor.Randn([5], DType.Float64, g).RequiresGrad_();
        Assert.True(Autograd.GradCheck(x => x[0].Put(index, x[1], accumulate: true), [a, source]));
        var mask = Tensor.From(new[] { true, false, true, true }, 4);
        var many = Tensor.Randn([12], DType.Float64, g).RequiresGrad_();
        Assert.True(Autograd.GradCheck(x => x[0].MaskedScatter(mask, x[1]), [a, many]));
        var rows = Tensor.From(new long[] { 0, 2, 0, 1 }, 4);
        var positive = (Tensor.Rand([3, 4], DType.Float64, g) + 0.5).Detach().RequiresGrad_();
        var src = (Tensor.Rand([4, 4], DType.Float64, g) + 0.5).Detach().RequiresGrad_();
        foreach (var reduce in new[] { "prod", "mean", "amax", "amin" })
            Assert.True(Autograd.GradCheck(x => x[0].IndexReduce(0, rows, x[1], reduce), [positive, src]), reduce);
        var input = Tensor.Randn([3, 5], DType.Float64, g).RequiresGrad_();
        var b1 = Tensor.Randn([2, 3, 4], DType.Float64, g).RequiresGrad_();
        var b2 = Tensor.Randn([2, 4, 5], DType.Float64, g).RequiresGrad_();
        Assert.True(Autograd.GradCheck(x => Tensor.Addbmm(x[0], x[1], x[2], 0.5, 2), [input, b1, b2]));
        Assert.True(Autograd.GradCheck(x => Linalg.Vecdot(x[0], x[1], 0), [a, b]));
        Assert.True(Autograd.GradCheck(x => Tensor.Dstack(x[0], x[1]) * Tensor.ColumnStack(x[0], x[1]).Reshape(3, 4, 2), [a, b]));
    }

    [Fact]
    public void RandomFillsHaveTheirDistributionsMoments()
    {
        const int n = 200_000;
        var g = new Generator(41);
        var e = Tensor.Empty([n], DType.Float64).Exponential_(2.0, g);
        Near(0.5, e.Mean().Item<double>(), 0.01, "exponential mean");
        Near(0.25, e.Var().Item<double>(), 0.01, "exponential variance");
        var geo = Tensor.Empty([n], DType.Float32).Geometric_(0.25, g);
        Assert.True(geo.Min().Item<float>() >= 1, "geometric draws start at 1");
        Near(4.0, geo.To(DType.Float64).Mean().Item<double>(), 0.05, "geometric mean (1/p)");
        var c = Tensor.Empty([n], DType.Float64).Cauchy_(1.5, 0.5, g);
        Near(1.5, c.Median().Item<double>(), 0.01, "cauchy median");
        Near(0.5, (c.Quantile(0.75) - c.Quantile(0.25)).Item<double>() / 2, 0.01, "cauchy scale (half the interquartile range)");
        var ln = Tensor.Empty([n], DType.Float64).LogNormal_(0.3, 0.4, g);
        Near(0.3, ln.Log().Mean().Item<double>(), 0.005, "log-normal: mean of the log");
        Near(0.4, ln.Log().Std().Item<double>(), 0.005, "log-normal: std of the log");
        var rates = Tensor.Full([n], 3.5, DType.Float64);
        var p = Tensor.Poisson(rates, g);
        Near(3.5, p.Mean().Item<double>(), 0.03, "poisson mean");
        Near(3.5, p.Var().Item<double>(), 0.05, "poisson variance");
        var bin = Tensor.Binomial(Tensor.Full([n], 10.0, DType.Float64), Tensor.Full([n], 0.3, DType.Float64), g);
        Near(3.0, bin.Mean().Item<double>(), 0.03, "binomial mean");
        Near(2.1, bin.Var().Item<double>(), 0.05, "binomial variance");
        var ints = Tensor.RandIntLike(Tensor.Zeros([1000], DType.Int32), -3, 4, g);
        Assert.Equal(DType.Int32, ints.DType);
        Assert.Equal(-3, ints.Min().Item<int>());
        Assert.Equal(3, ints.Max().Item<int>());
        // Seeded: the same draws again.
        Assert.Equal(Tensor.Empty([5]).Exponential_(1, new Generator(9)).ToArray<float>(), Tensor.Empty([5]).Exponential_(1, new Generator(9)).ToArray<float>());
    }

    static void Near(double expected, double actual, double tol, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tol, $"{what}: {actual}, expected {expected} ± {tol}");

    [Fact]
    public void BadInputIsAClearError()
    {
        var x = Tensor.Zeros(3, 4);
        Assert.Contains("take: an index is outside [-12, 12)", Assert.Throws<KilnException>(() => x.Take(Tensor.From(new long[] { 12 }, 1))).Message);
        Assert.Contains("put: source has 1 elements for 2 indices", Assert.Throws<KilnException>(() => x.Put(Tensor.From(new long[] { 0, 1 }, 2), Tensor.Ones(1))).Message);
        Assert.Contains("masked_scatter: the mask selects 12 elements", Assert.Throws<KilnException>(() => x.MaskedScatter(Tensor.Ones([4], DType.Bool), Tensor.Ones(5))).Message);
        Assert.Contains("reduce must be prod, mean, amax or amin", Assert.Throws<KilnException>(() => x.IndexReduce(0, Tensor.From(new long[] { 0 }, 1), Tensor.Ones(1, 4), "sum")).Message);
        Assert.Contains("index_reduce: expected a 1-D index of 2 entries", Assert.Throws<KilnException>(() => x.IndexReduce(0, Tensor.From(new long[] { 0 }, 1), Tensor.Ones(2, 4), "amax")).Message);
        Assert.Contains("unravel_index: an index is outside a tensor of shape", Assert.Throws<KilnException>(() => Tensor.UnravelIndex(Tensor.From(new long[] { 6 }, 1), [2, 3])).Message);
        Assert.Contains("gcd: only integer tensors", Assert.Throws<KilnException>(() => x.Gcd(x)).Message);
        Assert.Contains("nextafter: expected two float32 or two float64", Assert.Throws<KilnException>(() => x.Nextafter(x.To(DType.Float64))).Message);
        Assert.Contains("fliplr: input must be >= 2-d", Assert.Throws<KilnException>(() => Tensor.Zeros(3).Fliplr()).Message);
        Assert.Contains("positive: the + operator on a bool tensor", Assert.Throws<KilnException>(() => Tensor.Ones([2], DType.Bool).Positive()).Message);
        Assert.Contains("broadcast_shapes", Assert.Throws<KilnException>(() => Tensor.BroadcastShapes([2, 3], [4])).Message);
        Assert.Contains("exponential_ expects lambd > 0.0", Assert.Throws<KilnException>(() => Tensor.Empty([2]).Exponential_(0)).Message);
        Assert.Contains("geometric_ expects p to be in (0, 1]", Assert.Throws<KilnException>(() => Tensor.Empty([2]).Geometric_(1.5)).Message);
        Assert.Contains("bitwise_left_shift: only integer tensors", Assert.Throws<KilnException>(() => x.BitwiseLeftShift(x)).Message);
    }
}
