using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace Kiln.Analyzers.Tests;

/// <summary>Messages in the runtime's words with symbolic dims by name, the info diagnostic, and the KLN0001 code fix.</summary>
[Collection(Generation.DefaultGenerator.Name)]
public class DiagnosticTests
{
    const string Usings = "using Kiln;\nusing Kiln.NN;\n\n";

    /// <summary>Runs a code fix through Microsoft.CodeAnalysis.CSharp.CodeFix.Testing, offline: no reference package is downloaded, .NET 10's come from Basic.Reference.Assemblies.</summary>
    static async Task VerifyFix<TFix>(string source, string fixedSource) where TFix : Microsoft.CodeAnalysis.CodeFixes.CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<ModelShapeAnalyzer, TFix, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
        };
        test.TestState.AdditionalReferences.AddRange(AnalyzerHarness.References);
        test.FixedState.AdditionalReferences.AddRange(AnalyzerHarness.References);
        await test.RunAsync(CancellationToken.None);
    }

    static async Task<Diagnostic[]> Diagnostics(string source)
    {
        var (compiler, found) = await AnalyzerHarness.Run(Usings + source);
        Assert.True(compiler.IsEmpty, string.Join("; ", compiler));
        return found.OrderBy(d => d.Location.SourceSpan.Start).ToArray();
    }

    [Fact]
    public async Task MessagesAreTheRuntimesWithSymbolsByName()
    {
        var d = await Diagnostics("""
            [Model]
            public partial class M : Module
            {
                readonly Linear a, b;
                public M(int inputSize, int hidden) { a = new(inputSize, hidden); b = new(inputSize, 10); }
                public Tensor Forward([Shape("N inputSize")] Tensor x) => b.Forward(a.Forward(x));
            }
            """);
        var error = Assert.Single(d);
        Assert.Equal("KLN0001", error.Id);
        Assert.Equal("linear: mat1 and mat2 shapes cannot be multiplied (input [N, hidden], weight [10, inputSize]: input's last dim must be in_features=inputSize)", error.GetMessage());
        // The runtime throws the same text for the same mistake with sizes in place of names.
        var runtime = Assert.Throws<KilnException>(() => new Kiln.NN.Linear(5, 10).Forward(Tensor.Zeros(2, 7)));
        Assert.Equal("linear: mat1 and mat2 shapes cannot be multiplied (input [2, 7], weight [10, 5]: input's last dim must be in_features=5)", runtime.Message);
        // A file URI of the page that ships with the analyzers (here: the repository's docs), with the ID's anchor.
        var link = new System.Uri(error.Descriptor.HelpLinkUri);
        Assert.Equal("file", link.Scheme);
        Assert.Equal("#kln0001", link.Fragment);
        Assert.True(System.IO.File.Exists(link.LocalPath), link.LocalPath);
        Assert.EndsWith("docs/diagnostics.md", link.LocalPath);
    }

    [Fact]
    public async Task ElementCountsShowTheirSymbolicFactor()
    {
        var d = await Diagnostics("""
            [Model]
            public partial class M : Module
            {
                public Tensor Forward([Shape("N 784")] Tensor x) => x.View(-1, 28, 27);
            }
            """);
        Assert.Equal("view: shape [-1, 28, 27] is invalid for input of size 784·N (input shape [N, 784])", Assert.Single(d).GetMessage());
    }

    [Fact]
    public async Task SymbolicSizesFollowArithmeticAndStridedWindows()
    {
        // Sizes are expressions, not stand-in numbers: a width computed from a constructor parameter matches where it
        // should, a stride-2 conv over a symbolic height is named by its expression, and a wrong Linear after it is
        // reported with that name.
        var d = await Diagnostics("""
            [Model]
            public partial class M : Module
            {
                readonly Linear fc;
                readonly Conv2d down = new Conv2d(3, 8, 3, stride: 2, padding: 1);
                readonly Linear head;
                public M(int width) { fc = new Linear(width * 2, width); head = new Linear(8, 10); }
                public Tensor Forward([Shape("N width")] Tensor x, [Shape("N 3 H W")] Tensor image)
                {
                    var h = fc.Forward(Tensor.Cat([x, x], 1));
                    var y = down.Forward(image);
                    return head.Forward(y);
                }
            }
            """);
        Assert.Equal("linear: mat1 and mat2 shapes cannot be multiplied (input [N, 8, (H - 1)/2 + 1, (W - 1)/2 + 1], weight [10, 8]: input's last dim must be in_features=8)",
            Assert.Single(d).GetMessage());
    }

    [Fact]
    public async Task AttentionHeadsAreCheckedOnlyForNumbers()
    {
        // A width given as a constructor parameter may be any multiple of the heads: no diagnostic is guessed.
        var d = await Diagnostics("""
            [Model]
            public partial class M : Module
            {
                readonly MultiheadAttention attn;
                public M(int dModel) { attn = new MultiheadAttention(dModel, 4, batchFirst: true); }
                public Tensor Forward([Shape("N L dModel")] Tensor x) => attn.Forward(x, x, x).Output;
            }
            """);
        Assert.Empty(d);
    }

    [Fact]
    public async Task AnUnfollowedConstructIsOneInfoAndNoGuessedErrors()
    {
        var d = await Diagnostics("""
            [Model]
            public partial class M : Module
            {
                readonly Linear a = new(4, 8), b = new(3, 2);
                public Tensor Forward([Shape("N 4")] Tensor x)
                {
                    var h = a.Forward(x);
                    for (int i = 0; i < 2; i++) h = F.Relu(h);
                    return b.Forward(h);
                }
            }
            """);
        var info = Assert.Single(d);
        Assert.Equal("KLN0100", info.Id);
        Assert.Equal(DiagnosticSeverity.Info, info.Severity);
        Assert.StartsWith("a loop is outside what Kiln compiles", info.GetMessage());
        Assert.Equal(10, info.Location.GetLineSpan().StartLinePosition.Line);   // 0-based: the for statement, after three lines of usings
    }

    [Fact]
    public async Task ClassesWithoutTheAttributeAreNotChecked()
    {
        var d = await Diagnostics("""
            public class Plain : Module
            {
                readonly Linear a = new(4, 8);
                public Tensor Forward([Shape("N 5")] Tensor x) => a.Forward(x);
            }
            """);
        Assert.Empty(d);
    }

    [Fact]
    public async Task ANonPartialModelGetsAWarningAndAFix()
    {
        await VerifyFix<MakePartialCodeFix>(Usings + """
                [Model]
                public sealed class {|KLN0101:M|} : Module
                {
                    readonly Linear a = new(4, 2);
                    public Tensor Forward([Shape("N 4")] Tensor x) => a.Forward(x);
                }
                """,
            Usings + """
                [Model]
                public sealed partial class M : Module
                {
                    readonly Linear a = new(4, 2);
                    public Tensor Forward([Shape("N 4")] Tensor x) => a.Forward(x);
                }
                """);
    }

    /// <summary>The code fix, through Microsoft.CodeAnalysis.CSharp.CodeFix.Testing, offline (.NET 10 reference assemblies from Basic.Reference.Assemblies).</summary>
    [Fact]
    public async Task TheFixSetsInFeaturesToTheInputWidth()
    {
        await VerifyFix<LinearInFeaturesCodeFix>(Usings + """
                [Model]
                public partial class M : Module
                {
                    readonly Linear a = new(784, 128), b = new(64, 10);
                    public Tensor Forward([Shape("N 784")] Tensor x) => {|KLN0001:b.Forward(a.Forward(x))|};
                }
                """,
            Usings + """
                [Model]
                public partial class M : Module
                {
                    readonly Linear a = new(784, 128), b = new(128, 10);
                    public Tensor Forward([Shape("N 784")] Tensor x) => b.Forward(a.Forward(x));
                }
                """);
    }

    [Fact]
    public async Task ASymbolicWidthIsFixedWithItsName()
    {
        await VerifyFix<LinearInFeaturesCodeFix>(Usings + """
                [Model]
                public partial class M : Module
                {
                    readonly Linear a, b;
                    public M(int inputSize, int hidden) { a = new(inputSize, hidden); b = new(inputSize, 10); }
                    public Tensor Forward([Shape("N inputSize")] Tensor x) => {|KLN0001:b.Forward(a.Forward(x))|};
                }
                """,
            Usings + """
                [Model]
                public partial class M : Module
                {
                    readonly Linear a, b;
                    public M(int inputSize, int hidden) { a = new(inputSize, hidden); b = new(hidden, 10); }
                    public Tensor Forward([Shape("N inputSize")] Tensor x) => b.Forward(a.Forward(x));
                }
                """);
    }
}
