using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Kiln;
using Xunit;

namespace Kiln.Tests.Golden;

/// <summary>
/// Gradients against PyTorch: for every golden case with a "grad" entry, the float inputs become leaves
/// (views applied after, so gradients flow through transposes, slices and expands), the outputs are
/// seeded with PyTorch's random output gradients, and every input gradient must match — and, for the
/// second-order cases, the gradient of Σ grad·v as well.
/// </summary>
public class GradientGoldenTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in GoldenData.Root.GetProperty("cases").EnumerateArray())
            if (c.TryGetProperty("grad", out _)) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientsMatchPyTorch(string name)
    {
        var c = GoldenData.Case(name);
        var g = c.GetProperty("grad");
        bool second = g.TryGetProperty("second", out var secondExpected);
        var specs = c.GetProperty("inputs").EnumerateArray().ToArray();
        var leaves = new Tensor?[specs.Length];
        var inputs = new Tensor[specs.Length];
        for (int i = 0; i < specs.Length; i++)
        {
            var b = GoldenData.BuildBase(specs[i]);
            if (b.DType is DType.Float32 or DType.Float64) leaves[i] = b.RequiresGrad_();
            inputs[i] = GoldenData.ApplyViews(b, specs[i]);
        }
        var outputs = GoldenOps.Table[c.GetProperty("op").GetString()!](inputs, c.GetProperty("args")).Where(o => o.RequiresGrad).ToArray();
        var seeds = g.GetProperty("seeds").EnumerateArray().Select(GoldenData.Build).ToArray();
        Assert.Equal(seeds.Length, outputs.Length);
        var wrt = leaves.Where(l => l != null).Select(l => l!).ToArray();
        var grads = Autograd.Grad(outputs, wrt, seeds, createGraph: second, allowUnused: true);
        var expected = g.GetProperty("grads").EnumerateArray().ToArray();
        int k = 0;
        for (int i = 0; i < leaves.Length; i++)
        {
            if (leaves[i] is null) continue;
            var got = grads[k++] ?? Tensor.ZerosLike(leaves[i]!);
            GoldenData.AssertClose(expected[i], got, "reduction", $"{name} d/d input {i}");
        }
        if (!second) return;
        // Second order: d/dx Σ_i sum(grad_i * v_i).
        var vs = g.GetProperty("vs").EnumerateArray().ToArray();
        Tensor? total = null;
        k = 0;
        for (int i = 0; i < leaves.Length; i++)
        {
            if (leaves[i] is null) continue;
            var gi = grads[k++];
            if (gi is null || !gi.RequiresGrad) continue;
            var term = (gi * GoldenData.Build(vs[i])).Sum();
            total = total is null ? term : total + term;
        }
        if (total is null) return;
        var g2 = Autograd.Grad(new[] { total }, wrt, allowUnused: true);
        var want2 = secondExpected.EnumerateArray().ToArray();
        k = 0;
        for (int i = 0; i < leaves.Length; i++)
        {
            if (leaves[i] is null) continue;
            GoldenData.AssertClose(want2[i], g2[k++] ?? Tensor.ZerosLike(leaves[i]!), "reduction", $"{name} second order d/d input {i}");
        }
    }

    [Fact]
    public void EnoughCases()
    {
        var cases = GoldenData.Root.GetProperty("cases").EnumerateArray().Where(c => c.TryGetProperty("grad", out _)).ToArray();
        Assert.True(cases.Length >= 200, $"{cases.Length} gradient cases");
        var secondOps = cases.Where(c => c.GetProperty("grad").TryGetProperty("second", out _)).Select(c => c.GetProperty("op").GetString()).Distinct().Count();
        Assert.True(secondOps >= 15, $"second-order gradients cover {secondOps} ops");
    }
}
