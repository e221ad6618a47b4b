using System.Collections.Generic;
using System.Linq;
using Kiln.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace Kiln.Analyzers.Tests.Generation;

/// <summary>
/// Generated code reaches the runtime through one contract type (<c>Kiln.Compilation.CompiledOps</c>, hidden from
/// IntelliSense) besides the public API users call too: every static member of Kiln it calls is checked.
/// </summary>
[Collection(DefaultGenerator.Name)]
public class RuntimeContractTests
{
    const string Models = """
        using Kiln;
        using Kiln.NN;

        [Model]
        public partial class Mixed : Module
        {
            readonly Embedding embed = new(100, 16);
            readonly LayerNorm norm = new(16);
            readonly MultiheadAttention attn = new(16, 4, batchFirst: true);
            readonly Linear up = new(16, 32), down = new(32, 16), head = new(16, 5);
            readonly Dropout drop = new(0.1);
            public Tensor Forward([Shape("N L")] Tensor ids, [Shape("N L 16")] Tensor bias)
            {
                var h = norm.Forward(embed.Forward(ids)) + bias * 0.5f;
                h = h + attn.Forward(h, h, h, needWeights: false).Output;
                h = h + down.Forward(drop.Forward(F.Gelu(up.Forward(h))));
                return F.LogSoftmax(head.Forward(h.Transpose(0, 1)), -1);
            }
        }

        [Model]
        public partial class Vision : Module
        {
            readonly Conv2d conv = new(3, 8, 3, padding: 1);
            readonly BatchNorm2d bn = new(8);
            readonly MaxPool2d pool = new(2);
            readonly Linear fc = new(8 * 4 * 4, 10);
            public Tensor Forward([Shape("N 3 8 8")] Tensor x) => fc.Forward(pool.Forward(F.Relu(bn.Forward(conv.Forward(x)))).Flatten(1));
        }
        """;

    /// <summary>Public API generated code may call as users do (types whose statics are part of Kiln's surface).</summary>
    static readonly HashSet<string> PublicApi = ["Kiln.Tensor", "Kiln.Autograd", "Kiln.NN.F", "Kiln.DTypes"];

    [Fact]
    public void GeneratedCodeCallsTheRuntimeOnlyThroughTheContractAndPublicApi()
    {
        var compilation = AnalyzerHarness.Compile(Models);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new ModelGenerator());
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, string.Join("; ", errors.Select(e => e.ToString())));
        var generated = output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".g.cs", System.StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(generated);

        var contractCalls = new HashSet<string>();
        var outside = new List<string>();
        foreach (var tree in generated)
        {
            var semantics = output.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes().Where(n => n is InvocationExpressionSyntax or MemberAccessExpressionSyntax))
            {
                var symbol = semantics.GetSymbolInfo(node).Symbol;
                if (symbol is not (IMethodSymbol or IPropertySymbol) || !symbol.IsStatic || symbol.ContainingAssembly?.Name != "Kiln") continue;
                string type = symbol.ContainingType.ToDisplayString();
                if (type.StartsWith("Kiln.Compilation.CompiledOps", System.StringComparison.Ordinal)) contractCalls.Add(symbol.Name);
                else if (!PublicApi.Contains(type)) outside.Add($"{type}.{symbol.Name}");
            }
        }
        Assert.True(outside.Count == 0, "called outside the contract: " + string.Join(", ", outside.Distinct()));
        // The models reach the contract for their layers, fused groups, modes and islands.
        Assert.Superset(new HashSet<string> { "LayerNorm", "Embedding", "SelfAttention", "LinearEpilogue", "PlanBroadcast", "ForRanges", "EnterTuning",
            "UsePool", "OutsidePool", "RunIsland", "BatchNorm", "Conv2dBackward", "MaxPool2dBackward", "GpuLauncher" }, contractCalls);

        var contract = output.GetTypeByMetadataName("Kiln.Compilation.CompiledOps")!;
        Assert.Contains(contract.GetAttributes(), a => a.AttributeClass?.Name == "EditorBrowsableAttribute");
    }
}
