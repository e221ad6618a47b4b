using System;
using Xunit;

namespace Kiln.Tests.Core;

/// <summary>
/// index_select's host kernel beyond its golden cases: an index of long runs (frames, padding) is copied run by run,
/// a scattered one element by element, and both must pick exactly what the index names — along the first, a middle
/// and the last dim, for 1-, 2-, 4- and 8-byte elements, with negative positions wrapped and the caller's index left as
/// it was.
/// </summary>
public class IndexSelectTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.Int64)]
    [InlineData(DType.Bool)]
    [InlineData(DType.BFloat16)]
    public void RunsAndScatteredPicksEqualTheDefinition(DType dtype)
    {
        var g = new Generator(7);
        var source = Tensor.Randn([3, 40, 5], generator: g).Mul(10).Round().To(dtype);
        var runs = new long[60];
        for (int j = 0; j < 60; j++) runs[j] = j < 30 ? 5 + j : -(j - 29);           // a run of 30, then -1, -2, ... wrapped
        var scattered = new long[] { 3, 0, 39, -40, 7, 7, 12 };
        foreach (var picks in new[] { runs, scattered })
            for (int dim = 0; dim < 3; dim++)
            {
                int size = source.Size(dim);
                var valid = Array.FindAll(picks, p => p >= -size && p < size);
                var index = Tensor.From((long[])valid.Clone(), valid.Length);
                var got = source.IndexSelect(dim, index).To(DType.Float64);
                var all = source.To(DType.Float64);
                for (int k = 0; k < valid.Length; k++)
                {
                    long at = valid[k] < 0 ? valid[k] + size : valid[k];
                    var want = all.Narrow(dim, (int)at, 1).ToArray<double>();
                    var have = got.Narrow(dim, k, 1).ToArray<double>();
                    Assert.Equal(want, have);
                }
                Assert.Equal(valid, index.ToArray<long>());   // negative entries are wrapped in a copy, not in the caller's index
            }
    }

    [Fact]
    public void AnOutOfRangeEntryInALongRunIsAClearError()
    {
        var x = Tensor.Zeros(4, 100);
        var picks = new long[64];
        for (int j = 0; j < 64; j++) picks[j] = 40 + j;   // runs past the end at 100
        var e = Assert.Throws<KilnException>(() => x.IndexSelect(1, Tensor.From(picks, 64)));
        Assert.Contains("index_select", e.Message);
        Assert.Contains("100", e.Message);
    }
}
