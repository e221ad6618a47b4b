using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Analyzers;

/// <summary>
/// KLN0001: sets a Linear layer's in_features argument to the size its input really has (the analyzer knows it:
/// a number, or the name of a symbolic dim such as a constructor parameter).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LinearInFeaturesCodeFix)), Shared]
public sealed class LinearInFeaturesCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.LinearInFeatures.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (diagnostic.AdditionalLocations.Count == 0 || !diagnostic.Properties.TryGetValue(DiagnosticDescriptors.ReplacementProperty, out var text) || text is null)
                continue;
            var location = diagnostic.AdditionalLocations[0];
            var document = context.Document.Project.Solution.GetDocument(location.SourceTree);
            if (document is null) continue;
            var root = await document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root?.FindNode(location.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax argument) continue;
            context.RegisterCodeFix(
                CodeAction.Create($"Set in_features to {text}", _ =>
                {
                    var replacement = SyntaxFactory.ParseExpression(text).WithTriviaFrom(argument);
                    return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(argument, replacement)).Project.Solution);
                }, equivalenceKey: "KLN0001:" + text),
                diagnostic);
        }
    }
}
