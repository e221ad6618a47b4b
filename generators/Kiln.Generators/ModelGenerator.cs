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

    /// <summary>KLN0102: a [Model] whose Forward the compiler does not fuse yet; Compile() runs it eagerly.</summary>
    public static readonly DiagnosticDescriptor NotCompiled = new("KLN0102", "Forward runs eagerly",
        "{0}.Compile() runs Forward eagerly: {1} is outside what Kiln compiles today (graphs of Linear, Conv2d, MaxPool2d, Flatten, LayerNorm, RMSNorm, BatchNorm, Embedding, self-attention, TransformerEncoderLayer, softmax, cross entropy, [Model] blocks, activations, dropout and elementwise arithmetic)",
        "Kiln.Compiler", DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: Kiln.Compiler.DiagnosticHelp.Link("KLN0102"));

    /// <summary>KLN0103: a layer without a fused form, run by the eager engine inside an otherwise compiled model.</summary>
    public static readonly DiagnosticDescriptor EagerLayer = new("KLN0103", "Layer runs eagerly inside the compiled model",
        "{0}.Compile() runs {1} eagerly inside its compiled kernels (no fused form for it yet); the layers around it are fused",
        "Kiln.Compiler", DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: Kiln.Compiler.DiagnosticHelp.Link("KLN0103"));

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
