using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
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

    static OpArgs ArgsOf(JsonElement a)
    {
        var r = new OpArgs();
        foreach (var p in a.EnumerateObject())
        {
            switch (p.Name)
            {
                case "dims" when p.Value.ValueKind == JsonValueKind.Array: r.Dims = p.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray(); break;
                case "dim" when p.Value.ValueKind == JsonValueKind.Number: r.Dim = p.Value.GetInt32(); break;
                case "dim0": r.Dim = p.Value.GetInt32(); break;
                case "dim1": r.Dim1 = p.Value.GetInt32(); break;
                case "keepdim": r.KeepDim = p.Value.GetBoolean(); break;
                case "shape" or "dims" or "repeats" or "sizes" when p.Value.ValueKind == JsonValueKind.Array: r.Sizes = p.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray(); break;
                case "start" when p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var st): r.Start = st; break;
                case "length": r.Length = p.Value.GetInt32(); break;
            }
        }
        return r;
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
        var args = ArgsOf(c.GetProperty("args"));
        if (def.Name == "permute") args.Sizes = c.GetProperty("args").GetProperty("dims").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var shape = def.Shape(inputs, args);
        var expected = c.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(expected, shape);
    }

    [Fact]
    public void EveryRegisteredOpHasAGoldenCase()
    {
        var covered = GoldenData.Root.GetProperty("cases").EnumerateArray()
            .Select(c => c.GetProperty("op").GetString()!).Select(o => Aliases.GetValueOrDefault(o, o)).ToHashSet();
        // NN primitives are covered by nn.json's functional cases (FunctionalGoldenTests checks their shape rules).
        covered.UnionWith(Kiln.Tests.NN.FunctionalGoldenTests.RegistryOps.Values);
        covered.UnionWith(Kiln.Tests.NN.ModuleGoldenTests.RegistryOpsCoveredByModules);
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
