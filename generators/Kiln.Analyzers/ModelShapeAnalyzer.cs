using System.Collections.Immutable;
using System.Linq;
using Kiln.Analyzers.FrontEnd;
using Kiln.Compiler;
using Kiln.Compiler.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>
/// Checks the tensor shapes of every [Model] class as it is written: the layers its fields build, the [Shape] of its
/// Forward parameters, and each step of Forward, with the same rules (and words) as the runtime.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ModelShapeAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.LinearInFeatures, DiagnosticDescriptors.ConvChannels, DiagnosticDescriptors.MatmulInner,
        DiagnosticDescriptors.ReshapeCount, DiagnosticDescriptors.Broadcast, DiagnosticDescriptors.Concat,
        DiagnosticDescriptors.Attention, DiagnosticDescriptors.LossTarget, DiagnosticDescriptors.RecurrentInput,
        DiagnosticDescriptors.Normalization, DiagnosticDescriptors.OtherShape, DiagnosticDescriptors.Unsupported,
        DiagnosticDescriptors.NotPartial);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSyntaxNodeAction(AnalyzeClass, SyntaxKind.ClassDeclaration);
    }

    static void AnalyzeClass(SyntaxNodeAnalysisContext context)
    {
        var declaration = (ClassDeclarationSyntax)context.Node;
        if (context.SemanticModel.GetDeclaredSymbol(declaration, context.CancellationToken) is not INamedTypeSymbol model) return;
        if (!HasModelAttribute(model)) return;
        if (model.ContainingType is not null || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotPartial, declaration.Identifier.GetLocation(), model.Name));
        // A partial class is read once, at its first declaration in this file.
        if (declaration.SyntaxTree.GetRoot(context.CancellationToken).DescendantNodes().OfType<ClassDeclarationSyntax>()
                .FirstOrDefault(d => SymbolEqualityComparer.Default.Equals(context.SemanticModel.GetDeclaredSymbol(d, context.CancellationToken), model)) != declaration)
            return;
        var layers = ModelLayers.Read(model, context.SemanticModel, context.CancellationToken);
        foreach (var layer in layers)
            CheckConstruction(layer, context.ReportDiagnostic);
        foreach (var member in declaration.Members)
        {
            if (member is not MethodDeclarationSyntax method || method.Identifier.Text != "Forward") continue;
            if (context.SemanticModel.GetDeclaredSymbol(method, context.CancellationToken) is not IMethodSymbol symbol) continue;
            var forward = ForwardReader.Read(symbol, context.SemanticModel, inlineModels: false, context.CancellationToken);
            if (forward.NotRead is null) new ShapeInterpreter(context.ReportDiagnostic).Run(forward);
        }
    }

    /// <summary>Checks a layer's constructor arguments that shape rules constrain (attention heads).</summary>
    static void CheckConstruction(LayerSpec layer, System.Action<Diagnostic> report)
    {
        try
        {
            if ((layer.Kind == "MultiheadAttention" || layer.Kind.StartsWith("Transformer", System.StringComparison.Ordinal))
                && (layer.Int("embedDim") ?? layer.Int("dModel")) is int width && layer.Int(layer.Kind == "MultiheadAttention" ? "numHeads" : "nhead") is int heads)
                LayerRules.AttentionHeads(width, heads);
        }
        catch (KilnException e)
        {
            report(Diagnostic.Create(DiagnosticDescriptors.ForOp(e.Op ?? ""), layer.Creation, e.Message));
        }
    }

    static bool HasModelAttribute(INamedTypeSymbol type)
    {
        foreach (var a in type.GetAttributes())
            if (a.AttributeClass is { Name: "ModelAttribute" } c && c.ContainingNamespace?.ToDisplayString() == "Kiln.NN") return true;
        return false;
    }
}
