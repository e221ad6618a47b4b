using System;
using System.Linq;
using Kiln.Distributions;
using Xunit;

namespace Kiln.Tests.Distributions;

/// <summary>The checks the sampling tests make of seeded draws: their moments and their empirical cdf.</summary>
internal static class SamplingLaws
{
    /// <summary>
    /// The column means of <paramref name="draws"/> [n, k] within <paramref name="tolerance"/> of <paramref name="mean"/>
    /// (relative, at least 0.25 absolute scale) and the variances within 2.5 × that of <paramref name="variance"/>.
    /// </summary>
    public static void AssertMoments(Tensor draws, double[] mean, double[] variance, double tolerance)
    {
        var m = draws.Mean(0).ToArray<double>();
        var v = draws.Var([0]).ToArray<double>();
        for (int i = 0; i < mean.Length; i++)
        {
            Assert.True(Math.Abs(m[i] - mean[i]) <= tolerance * Math.Max(Math.Abs(mean[i]), 0.25), $"mean[{i}] {m[i]} vs {mean[i]}");
            Assert.True(Math.Abs(v[i] - variance[i]) <= 2.5 * tolerance * variance[i], $"variance[{i}] {v[i]} vs {variance[i]}");
        }
    }

    /// <summary>The fraction of each column of <paramref name="draws"/> [n, k] at or below <paramref name="at"/>[k], which should be the cdf there.</summary>
    public static void AssertCdf(Distribution d, Tensor draws, double[] at, double tolerance)
    {
        var x = draws.ToArray2D<double>();
        var want = d.Cdf(Tensor.From(at, at.Length)).ToArray<double>();
        for (int c = 0; c < at.Length; c++)
        {
            double share = Enumerable.Range(0, x.GetLength(0)).Count(r => x[r, c] <= at[c]) / (double)x.GetLength(0);
            Assert.InRange(share, want[c] - tolerance, want[c] + tolerance);
        }
    }
}
