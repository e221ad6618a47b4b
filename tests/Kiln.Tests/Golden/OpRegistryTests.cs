using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using Kiln.Compiler;
using Kiln.Compiler.Ops;
using Xunit;

namespace Kiln.Tests.Golden;

/// <summary>The op registry's shape rules (what the analyzers will use) against PyTorch's output shapes.</summary>
public class OpRegistryTests
{
    static readonly Dictionary<string, string> Aliases = new()
    {
        ["max_dim"] = "max",
        ["min_dim"] = "min",
        ["max_all"] = "max",
        ["min_all"] = "min",
        ["gelu_tanh"] = "gelu",
    };

    /// <summary>A golden case's arguments as the record the op declares (<see cref="OpDef.ArgsType"/>).</summary>
    static OpArgs ArgsOf(OpDef def, JsonElement a)
    {
        bool Has(string n, JsonValueKind kind) => a.TryGetProperty(n, out var v) && v.ValueKind == kind;
        int Int(string n) => Has(n, JsonValueKind.Number) ? a.GetProperty(n).GetInt32() : 0;
        double? Num(string n) => Has(n, JsonValueKind.Number) ? a.GetProperty(n).GetDouble() : null;
        int[]? Ints(string n) => Has(n, JsonValueKind.Array) ? a.GetProperty(n).EnumerateArray().Select(e => e.GetInt32()).ToArray() : null;
        bool keep = Has("keepdim", JsonValueKind.True);
        return def.ArgsType.Name switch
        {
            nameof(NoArgs) => OpArgs.None,
            nameof(ReduceArgs) => Ints("dims") is { } dims ? new ReduceArgs(dims, keep) : ReduceArgs.Over(Has("dim", JsonValueKind.Number) ? Int("dim") : null, keep),
            nameof(DimArgs) => new DimArgs(Int("dim")),
            nameof(TransposeArgs) => new TransposeArgs(Int("dim0"), Int("dim1")),
            nameof(SizesArgs) => new SizesArgs(Ints("shape") ?? Ints("repeats") ?? Ints("sizes")!),
            nameof(PermuteArgs) => new PermuteArgs(Ints("dims")!),
            nameof(NarrowArgs) => new NarrowArgs(Int("dim"), Int("start"), Int("length")),
            nameof(SelectArgs) => new SelectArgs(Int("dim"), Int("index")),
            nameof(GeluArgs) => new GeluArgs("none"),
            nameof(SoftplusArgs) => new SoftplusArgs(Num("beta") ?? 1, Num("threshold") ?? 20),
            nameof(ClampArgs) => new ClampArgs(Num("min"), Num("max")),
            nameof(AddmmArgs) => new AddmmArgs(Num("beta") ?? 1, Num("alpha") ?? 1),
            nameof(DiagonalArgs) => new DiagonalArgs(Int("diagonal")),
            nameof(NormalizationArgs) => new NormalizationArgs((Ints("shape") ?? []).Aggregate(1, (p, v) => p * v), HasWeight: false, HasBias: false),
            _ => throw new System.InvalidOperationException($"no golden reader for {def.ArgsType.Name} ({def.Name})"),
        };
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in GoldenData.Root.GetProperty("cases").EnumerateArray())
        {
            var op = c.GetProperty("op").GetString()!;
            if (OpRegistry.Find(Aliases.GetValueOrDefault(op, op)) != null && c.GetProperty("inputs").GetArrayLength() > 0)
                data.Add(c.GetProperty("name").GetString()!);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ShapeRuleGivesPyTorchsShape(string name)
    {
        var c = GoldenData.Case(name);
        var op = c.GetProperty("op").GetString()!;
        var def = OpRegistry.Find(Aliases.GetValueOrDefault(op, op))!;
        var inputs = c.GetProperty("inputs").EnumerateArray().Select(s => GoldenData.Build(s).Shape.ToArray()).ToArray();
        var shape = def.Shape(inputs, ArgsOf(def, c.GetProperty("args")));
        var expected = c.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(expected, shape);
    }

    [Fact]
    public void EveryOpDeclaresItsArgumentRecord()
    {
        foreach (var def in OpRegistry.All)
            Assert.True(typeof(OpArgs).IsAssignableFrom(def.ArgsType) && !def.ArgsType.IsAbstract, $"{def.Name}: {def.ArgsType}");
        Assert.Equal(typeof(TransposeArgs), OpRegistry.Find("transpose")!.ArgsType);
        Assert.Equal(typeof(NoArgs), OpRegistry.Find("matmul")!.ArgsType);
    }

    [Fact]
    public void ArgumentsOfAnotherRecordAreRefusedNamingTheOpAndBothTypes()
    {
        var e = Assert.Throws<KilnException>(() => OpRegistry.Find("transpose")!.Shape([[2, 3]], new DimArgs(0)));
        Assert.Equal("transpose: expected arguments of type TransposeArgs, got DimArgs", e.Message);
        Assert.Equal(KilnErrorKind.Argument, e.Kind);
        // A derived record is accepted where its base is declared (var's MomentArgs is a ReduceArgs).
        Assert.Equal(new[] { 2 }, OpRegistry.Find("var")!.Shape([[2, 3]], new MomentArgs([1], false, 1)));
    }

    [Fact]
    public void EveryRegisteredOpHasAGoldenCase()
    {
        var covered = GoldenData.Root.GetProperty("cases").EnumerateArray()
            .Select(c => c.GetProperty("op").GetString()!).Select(o => Aliases.GetValueOrDefault(o, o)).ToHashSet();
        // NN primitives are covered by nn.json's functional cases (FunctionalGoldenTests checks their shape rules).
        covered.UnionWith(Kiln.Tests.NN.FunctionalGoldenTests.RegistryOps.Values);
        covered.UnionWith(Kiln.Tests.NN.ModuleGoldenTests.RegistryOpsCoveredByModules);
        covered.UnionWith(Kiln.Tests.NN.FunctionalGoldenTests.RegistryOpsCoveredByLosses);
        covered.UnionWith(CourseGoldenTests.RegistryOpsCovered);
        // The one-input op table has its own golden file (UnaryOpTableTests).
        covered.UnionWith(Kiln.Compiler.Ops.Pointwise.UnaryOps.All.Select(o => o.Name));
        var missing = OpRegistry.All.Select(d => d.Name).Where(n => !covered.Contains(n)).ToArray();
        Assert.True(missing.Length == 0, "registered ops without a PyTorch case: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryFloatOpOfTheRegistryHasADerivative()
    {
        // Comparisons and argmax-like results carry no gradient; outer, stack, repeat and masked_fill are
        // differentiated through the recorded ops they are built from (their golden gradient cases pass).
        var exempt = new HashSet<string> { "eq", "ne", "lt", "le", "gt", "ge", "argmax", "argmin", "all", "any", "outer", "stack", "repeat", "masked_fill" };
        var missing = OpRegistry.All.Where(d => !exempt.Contains(d.Name) && !d.IsDifferentiable).Select(d => d.Name).ToArray();
        Assert.True(missing.Length == 0, "ops without a derivative rule: " + string.Join(", ", missing));
    }

    [Fact]
    public void RegistryAndRuntimeReportTheSameWords()
    {
        var runtime = Assert.Throws<KilnException>(() => Tensor.Zeros(64, 784).Matmul(Tensor.Zeros(128, 10)));
        var registry = Assert.Throws<KilnException>(() => OpRegistry.Find("matmul")!.Shape(new[] { new[] { 64, 784 }, new[] { 128, 10 } }, OpArgs.None));
        Assert.Equal(runtime.Message, registry.Message);
    }
}
