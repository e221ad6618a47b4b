using System;
using System.Linq;
using Kiln.Compiler.Ops.Pointwise;
using Xunit;

namespace Kiln.Tests.Golden;

/// <summary>
/// The two-input op table (<see cref="BinaryOps"/>): each formula on doubles equals the eager kernel (itself golden against
/// PyTorch in GoldenTests), the eager gradients its declaration gives equal finite differences of the formula, and the
/// generated fused float32 pass of both gradients equals the rules evaluated op by op.
/// </summary>
public class BinaryOpTableTests
{
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var op in BinaryOps.All) data.Add(op.Name);
        return data;
    }

    static Tensor Apply(string name, Tensor a, Tensor b) => name switch
    {
        "add" => a + b,
        "sub" => a - b,
        "mul" => a * b,
        "div" => a / b,
        "maximum" => a.Maximum(b),
        "minimum" => a.Minimum(b),
        "pow" => a.Pow(b),
        "atan2" => a.Atan2(b),
        "remainder" => a.Remainder(b),
        "swiglu" => Kiln.NN.F.SwiGlu(a, b),
        _ => throw new ArgumentException(name),
    };

    // Positive bases for pow, divisors away from 0, no ties (the gradient of a tie is a convention, not a derivative).
    static readonly double[] A = { 0.7, 1.3, 2.9, 0.45, 1.9, 3.3, 0.8, 2.2 };
    static readonly double[] B = { 1.1, 0.6, -1.7, 2.3, -0.9, 1.45, 2.6, -2.05 };

    [Theory]
    [MemberData(nameof(Names))]
    public void FormulaAndDerivativeMatchTheEagerOp(string name)
    {
        var op = BinaryOps.Find(name)!;
        var bs = name == "pow" ? B.Select(Math.Abs).ToArray() : B;
        using var a = Tensor.From(A).RequiresGrad_();
        using var b = Tensor.From(bs).RequiresGrad_();
        using (var y = Apply(name, a, b))
        {
            var got = y.ToArray<double>();
            for (int i = 0; i < A.Length; i++)
                Assert.Equal(op.Forward(DoubleAlgebra.Instance, A[i], bs[i]), got[i], 12);
            using var s = y.Sum();
            s.Backward();
        }
        var ga = a.Grad!.ToArray<double>();
        var gb = b.Grad!.ToArray<double>();
        const double h = 1e-6;
        for (int i = 0; i < A.Length; i++)
        {
            double fa = (op.Forward(DoubleAlgebra.Instance, A[i] + h, bs[i]) - op.Forward(DoubleAlgebra.Instance, A[i] - h, bs[i])) / (2 * h);
            double fb = (op.Forward(DoubleAlgebra.Instance, A[i], bs[i] + h) - op.Forward(DoubleAlgebra.Instance, A[i], bs[i] - h)) / (2 * h);
            Assert.True(Math.Abs(fa - ga[i]) <= 1e-6 * (Math.Abs(ga[i]) + 1), $"{name} d/da at {i}: {fa:R} vs {ga[i]:R}");
            Assert.True(Math.Abs(fb - gb[i]) <= 1e-6 * (Math.Abs(gb[i]) + 1), $"{name} d/db at {i}: {fb:R} vs {gb[i]:R}");
        }
    }

    /// <summary>
    /// Float32 gradients without a graph to build run the generated loop of both gradients (one pass over a, b, y and the
    /// gradient): equal to the rules evaluated op by op (a createGraph backward takes that path) within fp32 1e-5, with
    /// 43 elements (vector bodies and a scalar tail), a tie for maximum/minimum, and one input needing no gradient.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void FusedFloat32GradientsMatchTheRules(string name)
    {
        var op = BinaryOps.Find(name)!;
        const int n = 43;
        var av = Enumerable.Range(0, n).Select(i => (float)A[i % A.Length] * (1 + i / 8 * 0.25f)).ToArray();
        var bv = Enumerable.Range(0, n).Select(i => (float)B[(i * 3) % B.Length] * (1 - i / 8 * 0.1f)).ToArray();
        if (name == "pow") bv = bv.Select(Math.Abs).ToArray();
        bv[5] = av[5];   // a tie
        var wv = Enumerable.Range(0, n).Select(i => (float)Math.Sin(i + 1)).ToArray();
        foreach (var (needA, needB) in new[] { (true, true), (true, false), (false, true) })
        {
            (float[]? ga, float[]? gb) Grads(bool createGraph)
            {
                using var a = Tensor.From(av);
                using var b = Tensor.From(bv);
                if (needA) a.RequiresGrad_();
                if (needB) b.RequiresGrad_();
                using var w = Tensor.From(wv);
                using var y = Apply(name, a, b);
                using var loss = (y * w).Sum();
                var inputs = needA && needB ? new[] { a, b } : needA ? new[] { a } : new[] { b };
                var g = Autograd.Grad(new[] { loss }, inputs, createGraph: createGraph);
                return (needA ? g[0]!.ToArray<float>() : null, needB ? g[^1]!.ToArray<float>() : null);
            }
            var fused = Grads(false);
            var rule = Grads(true);
            foreach (var (f, r, which) in new[] { (fused.ga, rule.ga, "a"), (fused.gb, rule.gb, "b") })
            {
                if (r is null) { Assert.Null(f); continue; }
                for (int i = 0; i < n; i++)
                    Assert.True(Math.Abs(f![i] - r[i]) <= 1e-5 * Math.Abs(r[i]) + 1e-6, $"{name} d/d{which}[{i}] (need a {needA}, b {needB}): fused {f[i]:R}, rule {r[i]:R}");
            }
        }
        // Every op whose two gradients both read an operand has the loop; add's, sub's and remainder's pass the gradient on.
        Assert.Equal(name is not ("add" or "sub" or "remainder"), Kiln.Kernels.Elementwise.BinaryGradients.Has(name));
    }

    /// <summary>Outputs past the streaming threshold (16 MiB) are written with non-temporal stores: still the rules' values, tail included.</summary>
    [Fact]
    public void FusedGradientsOfABigOperandMatchTheRules()
    {
        const int n = (4 << 20) + 3;
        var g = new Generator(2);
        using var a0 = Tensor.Randn([n], generator: g);
        using var b0 = Tensor.Randn([n], generator: g);
        using var w = Tensor.Randn([n], generator: g);
        float[][] Grads(bool createGraph)
        {
            using var a = a0.Detach().RequiresGrad_();
            using var b = b0.Detach().RequiresGrad_();
            using var loss = (Kiln.NN.F.SwiGlu(a, b) * w).Sum();
            return Autograd.Grad(new[] { loss }, new[] { a, b }, createGraph: createGraph).Select(t => t!.ToArray<float>()).ToArray();
        }
        var fused = Grads(false);
        var rule = Grads(true);
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < n; i++)
                if (!(Math.Abs(fused[k][i] - rule[k][i]) <= 1e-5 * Math.Abs(rule[k][i]) + 1e-6))
                    Assert.Fail($"swiglu d/d{(k == 0 ? "a" : "b")}[{i}]: fused {fused[k][i]:R}, rule {rule[k][i]:R}");
    }

    /// <summary>Operands that are views (a transposed one, and a gradient arriving through a transpose) are read in their logical order.</summary>
    [Fact]
    public void FusedGradientsOfViewsMatchTheRules()
    {
        var g = new Generator(3);
        using var a0 = Tensor.Randn([37, 24], generator: g);
        using var b0 = Tensor.Randn([24, 37], generator: g);
        using var w = Tensor.Randn([37, 24], generator: g);
        float[][] Grads(bool createGraph)
        {
            using var a = a0.Detach().RequiresGrad_();
            using var b = b0.Detach().RequiresGrad_();
            using var bt = b.T;                                 // a transposed view of b
            using var y = Kiln.NN.F.SwiGlu(a, bt).T.Contiguous().T;   // the gradient reaches swiglu through transposes
            using var loss = (y * w).Sum();
            return Autograd.Grad(new[] { loss }, new[] { a, b }, createGraph: createGraph).Select(t => t!.ToArray<float>()).ToArray();
        }
        var fused = Grads(false);
        var rule = Grads(true);
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < fused[k].Length; i++)
                Assert.True(Math.Abs(fused[k][i] - rule[k][i]) <= 1e-5 * Math.Abs(rule[k][i]) + 1e-6, $"swiglu d/d{(k == 0 ? "a" : "b")}[{i}]: fused {fused[k][i]:R}, rule {rule[k][i]:R}");
    }
}
