using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Ops.Pointwise;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.Golden;

/// <summary>
/// Every op of the one-input op table (<see cref="UnaryOps"/>) against PyTorch (tests/golden/make_pointwise_golden.py):
/// the generated eager kernel (vector body and scalar tail), the formula itself on doubles, the derivative (PyTorch's
/// float64 autograd and finite differences), the generated F/nn members and the registry entry. A new table op is
/// covered by adding its golden line; without one, <see cref="EveryTableOpHasAGoldenEntry"/> fails.
/// </summary>
public class UnaryOpTableTests
{
    static readonly Lazy<JsonElement> Ops = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "pointwise.json"))).RootElement.GetProperty("ops"));

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var op in UnaryOps.All) data.Add(op.Name);
        return data;
    }

    static double[] Values(string op, string field) => Ops.Value.GetProperty(op).GetProperty(field).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    /// <summary>The op's eager entry point: the generated Tensor method (gelu's two forms through Gelu(approximate)).</summary>
    internal static Tensor Apply(UnaryOp op, Tensor x) => op.Name switch
    {
        "gelu" => x.Gelu(),
        "gelu_tanh" => x.Gelu("tanh"),
        _ => (Tensor)(typeof(Tensor).GetMethod(op.Method, Type.EmptyTypes) ?? throw new InvalidOperationException($"no Tensor.{op.Method}()")).Invoke(x, null)!,
    };

    static void Close(double[] expected, double[] actual, double rel, double abs, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= rel * Math.Abs(expected[i]) + abs || expected[i].Equals(actual[i]),
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Fact]
    public void EveryTableOpHasAGoldenEntry()
    {
        var missing = UnaryOps.All.Where(o => !Ops.Value.TryGetProperty(o.Name, out _)).Select(o => o.Name).ToArray();
        Assert.True(missing.Length == 0, "table ops without a PyTorch entry in make_pointwise_golden.py: " + string.Join(", ", missing));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void EagerKernelMatchesPyTorch(string name)
    {
        var op = UnaryOps.Find(name)!;
        var xs = Values(name, "x");
        using var x = Tensor.From(xs.Select(v => (float)v).ToArray());
        using var y = Apply(op, x);
        Assert.Equal(DType.Float32, y.DType);
        // fp32 elementwise: rel 1e-5 (an absolute floor of 1e-6 where the value crosses zero).
        Close(Values(name, "y"), y.ToArray<float>().Select(v => (double)v).ToArray(), 1e-5, 1e-6, name);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FormulaOnDoublesMatchesPyTorch(string name)
    {
        var op = UnaryOps.Find(name)!;
        var got = Values(name, "x").Select(v => (double)(float)op.Forward(DoubleAlgebra.Instance, v)).ToArray();
        Close(Values(name, "y"), got, 1e-5, 1e-6, name);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void DerivativeMatchesPyTorchAndFiniteDifferences(string name)
    {
        var op = UnaryOps.Find(name)!;
        var xs = Values(name, "x");
        var w = Values(name, "w");
        using var x = Tensor.From(xs).RequiresGrad_();
        using var weights = Tensor.From(w);
        using (var y = Apply(op, x))
        using (var weighted = y * weights)
        using (var loss = weighted.Sum())
            loss.Backward();
        var grad = x.Grad!.ToArray<double>();
        // rel 1e-7: some of PyTorch's double kernels use float constants (hardsigmoid's 1/6 is 1.0f/6.0f); the finite
        // differences below hold the rule itself to the function.
        Close(Values(name, "grad"), grad, 1e-7, 1e-12, name + " vs PyTorch");

        // Central differences in float64, away from kinks and steps (0 for relu/abs/sign, integers for rounding).
        const double h = 1e-6;
        bool steps = op.Integers == IntegerInputs.Identity || name is "sign";
        for (int i = 0; i < xs.Length; i++)
        {
            if (Math.Abs(xs[i]) < 1e-3 || steps && Math.Abs(xs[i] - Math.Round(xs[i])) < 1e-3 || name == "round" && Math.Abs(Math.Abs(xs[i] % 1) - 0.5) < 1e-3)
                continue;
            double fd = w[i] * (op.Forward(DoubleAlgebra.Instance, xs[i] + h) - op.Forward(DoubleAlgebra.Instance, xs[i] - h)) / (2 * h);
            Assert.True(Math.Abs(fd - grad[i]) <= 1e-5 * (Math.Abs(grad[i]) + 1), $"{name}: x={xs[i]:R} finite difference {fd:R}, backward {grad[i]:R}");
        }
    }

    /// <summary>
    /// Float32 gradients without a graph to build run the generated fused loop (one pass over x or y and the gradient):
    /// equal to PyTorch's and to the rule evaluated op by op (a createGraph backward takes that path) within fp32 1e-5.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void FusedFloat32GradientMatchesPyTorchAndTheRule(string name)
    {
        var op = UnaryOps.Find(name)!;
        var xs = Values(name, "x").Select(v => (float)v).ToArray();
        using var weights = Tensor.From(Values(name, "w").Select(v => (float)v).ToArray());
        double[] Grad(bool createGraph)
        {
            using var x = Tensor.From(xs).RequiresGrad_();
            using var y = Apply(op, x);
            using var loss = (y * weights).Sum();
            return Autograd.Grad(loss, x, createGraph).ToArray<float>().Select(v => (double)v).ToArray();
        }
        var fused = Grad(false);
        Close(Grad(true), fused, 1e-5, 1e-6, name + " fused vs rule");
        Close(Values(name, "grad"), fused, 1e-5, 1e-6, name + " fused vs PyTorch");
        // The ops whose rule reads only x or only y have the loop (all but the ones reading neither or both).
        Assert.Equal(op.BackwardReadsInput != op.BackwardReadsOutput && op.Integers != IntegerInputs.Native, Kiln.Kernels.Elementwise.UnaryGradients.Has(name));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GeneratedMembersAndRegistryEntryExist(string name)
    {
        var op = UnaryOps.Find(name)!;
        var reg = OpRegistry.Find(name == "gelu_tanh" ? "gelu" : name);
        Assert.NotNull(reg);
        Assert.Equal(OpKind.Elementwise, reg!.Kind);
        Assert.True(reg.IsDifferentiable);
        OpArgs args = reg.ArgsType == typeof(GeluArgs) ? new GeluArgs(name == "gelu_tanh" ? "tanh" : "none") : OpArgs.None;
        Assert.Equal(new[] { 3, 5 }, reg.Shape(new[] { new[] { 3, 5 } }, args));

        using var x = Tensor.From(new float[] { -0.7f, 0.3f, 0.9f, 1.7f });
        using var expected = Apply(op, x.Abs() + 0.05f);
        if (op.Functional)
        {
            var f = typeof(F).GetMethod(op.Method, new[] { typeof(Tensor) });
            Assert.NotNull(f);
            using var y = (Tensor)f!.Invoke(null, new object[] { x.Abs() + 0.05f })!;
            Assert.Equal(expected.ToArray<float>(), y.ToArray<float>());
        }
        if (op.Module is { } module)
        {
            var type = typeof(Module).Assembly.GetType("Kiln.NN." + module);
            Assert.NotNull(type);
            var layer = (Module<Tensor, Tensor>)Activator.CreateInstance(type!)!;
            using var y = layer.Forward(x.Abs() + 0.05f);
            Assert.Equal(expected.ToArray<float>(), y.ToArray<float>());
        }
    }

    [Fact]
    public void RoundingOpsReturnIntegerTensorsAsCopies()
    {
        using var x = Tensor.From(new long[] { -3, 0, 7 });
        foreach (var op in UnaryOps.All.Where(o => o.Integers == IntegerInputs.Identity))
        {
            using var y = Apply(op, x);
            Assert.Equal(DType.Int64, y.DType);
            Assert.Equal(new long[] { -3, 0, 7 }, y.ToArray<long>());
        }
    }
}
