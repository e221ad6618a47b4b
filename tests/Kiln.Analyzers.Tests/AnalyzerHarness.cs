using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Kiln.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Tests;

/// <summary>Compiles C# against .NET 10's reference assemblies and Kiln, offline, and runs the shape analyzer.</summary>
public static class AnalyzerHarness
{
    /// <summary>.NET 10 reference assemblies plus Kiln and its compiler library.</summary>
    public static readonly ImmutableArray<MetadataReference> References = Basic.Reference.Assemblies.Net100.References.All
        .Cast<MetadataReference>()
        .Append(MetadataReference.CreateFromFile(typeof(Kiln.Tensor).Assembly.Location))
        .Append(MetadataReference.CreateFromFile(typeof(Kiln.KilnException).Assembly.Location))
        .Append(MetadataReference.CreateFromFile(typeof(ILGPU.Index1D).Assembly.Location))   // generated GPU kernels
        .ToImmutableArray();

    public static CSharpCompilation Compile(string source, string path = "Model.cs") =>
        CSharpCompilation.Create("Corpus", [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path)], References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>The compiler's own errors (a corpus file must be valid C#) and the analyzer's diagnostics.</summary>
    public static async Task<(ImmutableArray<Diagnostic> Compiler, ImmutableArray<Diagnostic> Analyzer)> Run(string source, string path = "Model.cs")
    {
        var compilation = Compile(source, path);
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new ModelShapeAnalyzer());
        var found = await compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync();
        return (errors, found);
    }
}
