using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Analyzers;

/// <summary>KLN0101: adds <c>partial</c> to a top-level [Model] class so the generator can extend it.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
public sealed class MakePartialCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.NotPartial.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root?.FindToken(diagnostic.Location.SourceSpan.Start).Parent is not ClassDeclarationSyntax declaration) continue;
            if (declaration.Parent is TypeDeclarationSyntax || declaration.Modifiers.Any(SyntaxKind.PartialKeyword)) continue;   // nested: no certain fix
            context.RegisterCodeFix(CodeAction.Create("Make the class partial", _ =>
            {
                var partial = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
                var updated = declaration.WithModifiers(declaration.Modifiers.Add(partial));
                if (declaration.Modifiers.Count == 0)
                    updated = declaration.WithKeyword(declaration.Keyword.WithLeadingTrivia())
                        .WithModifiers(SyntaxFactory.TokenList(partial.WithLeadingTrivia(declaration.Keyword.LeadingTrivia)));
                return Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(declaration, updated)));
            }, equivalenceKey: "KLN0101"), diagnostic);
        }
    }
}
