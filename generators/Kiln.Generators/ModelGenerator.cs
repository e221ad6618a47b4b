using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generators;

/// <summary>
/// The [Model] source generator: for every partial class marked <c>[Model]</c>, a generated part that registers its
/// members without reflection (PyTorch names, declaration order) and records its Forward input shapes. Incremental:
/// the pipeline carries only equatable <see cref="ModelInfo"/> values, so unrelated edits regenerate nothing.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps (tests check they stay cached across unrelated edits).</summary>
    public const string ModelsStep = "Models", GeneratableStep = "GeneratableModels";

    /// <summary>KLN0102 (declared with every Kiln diagnostic in <see cref="Kiln.Analyzers.DiagnosticDescriptors"/>).</summary>
    public static readonly DiagnosticDescriptor NotCompiled = Kiln.Analyzers.DiagnosticDescriptors.NotCompiled;

    /// <summary>KLN0103 (declared in <see cref="Kiln.Analyzers.DiagnosticDescriptors"/>).</summary>
    public static readonly DiagnosticDescriptor EagerLayer = Kiln.Analyzers.DiagnosticDescriptors.EagerLayer;

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var models = context.SyntaxProvider.ForAttributeWithMetadataName("Kiln.NN.ModelAttribute",
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, cancel) => ModelInfo.From(ctx, cancel))
            .WithTrackingName(ModelsStep)
            .Where(static m => m.Generatable)
            .WithTrackingName(GeneratableStep);
        context.RegisterSourceOutput(models, static (spc, model) =>
        {
            spc.AddSource((model.Namespace is null ? "" : model.Namespace + ".") + model.Name + ".Model.g.cs", ModelEmitter.Emit(model, out var failure));
            if (model.Forward is { NotCompiled: { } construct } forward)
                spc.ReportDiagnostic(Diagnostic.Create(NotCompiled, forward.NotCompiledAt?.ToLocation() ?? Location.None, model.Name, construct));
            else if (failure is not null)
                spc.ReportDiagnostic(Diagnostic.Create(NotCompiled, model.Forward?.At?.ToLocation() ?? Location.None, model.Name, failure));
            foreach (var island in model.Forward?.Islands ?? default)
                spc.ReportDiagnostic(Diagnostic.Create(EagerLayer, island.Where?.ToLocation() ?? Location.None, model.Name, island.Layer));
        });
    }
}
