using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Kiln.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Kiln.Analyzers.Tests.Generation;

/// <summary>The [Model] generator: snapshots of its output, the generated registration against reflection's, incrementality.</summary>
[Collection(DefaultGenerator.Name)]
public class GeneratorTests
{
    const string Models = """
        using Kiln;
        using Kiln.NN;

        namespace Samples.Models
        {
            [Model]
            public partial class SimpleClassifier : Module
            {
                readonly Linear layer1, layer2;
                readonly Dropout dropout = new(0.2);
                public SimpleClassifier(int inputSize, int numClasses) { layer1 = new(inputSize, 128); layer2 = new(128, numClasses); }
                public Tensor Forward([Shape("N inputSize")] Tensor x) => layer2.Forward(dropout.Forward(F.Relu(layer1.Forward(x))));
            }

            [Model]
            public sealed partial class WithTensors : Module<Tensor, Tensor>
            {
                Tensor _scale = Parameter(Tensor.Ones(4));
                [Buffer(Persistent = false)] Tensor m_cache = Tensor.Zeros(4);
                [Buffer] readonly Tensor steps = Tensor.Zeros(1);
                readonly Tensor constant = Tensor.Ones(4);
                public Linear Head { get; set; } = new(4, 2);
                [NotAMember] readonly Linear ignored = new(1, 1);
                public override Tensor Forward([Shape("N 4")] Tensor x) => Head.Forward(x * _scale + constant);
            }
        }

        [Model]
        public partial class GlobalNamespace : Module
        {
            readonly Conv2d conv = new(1, 4, 3);
            public Tensor Forward([Shape("N 1 H W")] Tensor x, [Shape("N")] Tensor labels) => conv.Forward(x);
        }

        [Model]
        public class NotPartial : Module
        {
            readonly Linear l = new(2, 2);
        }
        """;

    static (Microsoft.CodeAnalysis.Compilation Output, GeneratorDriverRunResult Result) Generate(string source)
    {
        var compilation = AnalyzerHarness.Compile(source);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new ModelGenerator());
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        // No diagnostics: every model compiles (the two-input one too), and the operators with model tensors in
        // WithTensors (x * _scale + constant) are one fused loop broadcasting the tensors.
        Assert.Empty(diagnostics);
        return (output, driver.GetRunResult());
    }

    [Fact]
    public void GeneratedCodeMatchesTheSnapshots()
    {
        var (output, result) = Generate(Models);
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, string.Join("; ", errors.Select(e => e.ToString())));
        var files = result.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        Assert.Equal(new[] { "GlobalNamespace.Model.g.cs", "Samples.Models.SimpleClassifier.Model.g.cs", "Samples.Models.WithTensors.Model.g.cs" },
            files.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray());
        foreach (var (hint, text) in files) Snapshot.Verify(hint.Replace(".g.cs", ""), text);
    }

    /// <summary>The generated registration gives the members, names and order reflection gives (and no reflection runs for them).</summary>
    [Fact]
    public void GeneratedRegistrationEqualsReflection()
    {
        var (output, _) = Generate(Models);
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("; ", emit.Diagnostics));
        var assembly = Assembly.Load(stream.ToArray());
        var plainSource = Models.Replace("[Model]", "").Replace("partial ", "");
        using var plainStream = new MemoryStream();
        Assert.True(AnalyzerHarness.Compile(plainSource).Emit(plainStream).Success);
        var plain = Assembly.Load(plainStream.ToArray());
        foreach (var (name, args) in new (string, object[])[] { ("Samples.Models.SimpleClassifier", [784, 10]), ("Samples.Models.WithTensors", []), ("GlobalNamespace", []) })
        {
            var generated = (Kiln.NN.Module)Activator.CreateInstance(assembly.GetType(name)!, args)!;
            var reflected = (Kiln.NN.Module)Activator.CreateInstance(plain.GetType(name)!, args)!;
            Assert.Equal(Describe(reflected), Describe(generated));
            Assert.Equal(reflected.ToString(), generated.ToString());
        }
        var shapes = (IReadOnlyList<(string, string)>)assembly.GetType("GlobalNamespace")!.GetProperty("ForwardShapes")!.GetValue(null)!;
        Assert.Equal(new[] { ("x", "N 1 H W"), ("labels", "N") }, shapes);
    }

    static string[] Describe(Kiln.NN.Module m) =>
        m.StateDict().Select(kv => kv.Key + ":" + string.Join(",", kv.Value.Shape)).Concat(m.NamedParameters().Select(p => "param " + p.Name)).ToArray();

    /// <summary>After an edit that does not touch a [Model] class, every step of the pipeline reports Cached or Unchanged.</summary>
    [Fact]
    public void UnrelatedEditsRegenerateNothing()
    {
        var compilation = AnalyzerHarness.Compile(Models);
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new ModelGenerator().AsSourceGenerator()], driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(compilation);
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("static class Unrelated { public static int Answer => 42; }", new CSharpParseOptions(LanguageVersion.Latest)));
        driver = driver.RunGenerators(edited);
        var result = driver.GetRunResult().Results.Single();
        foreach (var step in new[] { ModelGenerator.ModelsStep, ModelGenerator.GeneratableStep })
        {
            Assert.True(result.TrackedSteps.ContainsKey(step), step);
            foreach (var run in result.TrackedSteps[step])
                foreach (var (_, reason) in run.Outputs)
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {reason}");
        }
        foreach (var (_, reason) in result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs))
            Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"output: {reason}");
    }

    /// <summary>A fault of the kernel compiler's emitter never breaks the build: that model's Compile() runs eagerly and says why.</summary>
    [Fact]
    public void AnEmitterFaultGivesAnEagerCompileInsteadOfABrokenBuild()
    {
        var graph = new Kiln.Compiler.Ir.IrGraph(new[]
        {
            new Kiln.Compiler.Ir.IrNode(0, Kiln.Compiler.Ir.IrOps.Input, System.Array.Empty<int>()),
            new Kiln.Compiler.Ir.IrNode(1, "no_such_op", new[] { 0 }, "m.layer"),
        }, 1, System.Array.Empty<string>());
        var forward = new ForwardInfo("global::Kiln.Tensor", "global::Kiln.Tensor x", "x", graph, null, null, null,
            new EquatableArray<IslandInfo>(System.Collections.Immutable.ImmutableArray<IslandInfo>.Empty));
        var model = new ModelInfo(null, "Broken", "", true, new EquatableArray<Kiln.Generators.MemberInfo>(System.Collections.Immutable.ImmutableArray<Kiln.Generators.MemberInfo>.Empty),
            new EquatableArray<ShapeInfo>(System.Collections.Immutable.ImmutableArray<ShapeInfo>.Empty), forward);
        string code = ModelEmitter.Emit(model, out var failure);
        Assert.StartsWith("an internal error of Kiln's kernel compiler (NotSupportedException", failure);
        Assert.Contains("public global::Kiln.Tensor Forward(global::Kiln.Tensor x) => _model.Forward(x);", code);
        Assert.Contains("so it runs eagerly", code);
    }
}
