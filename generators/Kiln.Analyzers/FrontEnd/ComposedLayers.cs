using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Analyzers.FrontEnd;

/// <summary>
/// Built-in composite layers (TransformerEncoderLayer, ...) whose real Forward the reader follows: Kiln's build embeds
/// each one's source file in its metadata (<c>[ForwardSource]</c>); here that text is parsed once per compilation and
/// bound beside the user's code, so the layer's Forward reads like any other.
/// </summary>
internal static class ComposedLayers
{
    const string SourceAttribute = "ForwardSourceAttribute";

    static readonly ConditionalWeakTable<Compilation, Dictionary<string, (IMethodSymbol Forward, SemanticModel Semantics)?>> Cache =
        new ConditionalWeakTable<Compilation, Dictionary<string, (IMethodSymbol, SemanticModel)?>>();

    /// <summary>The one-tensor Forward of <paramref name="type"/> read from its embedded source, with its semantics; null when it has none.</summary>
    public static (IMethodSymbol Forward, SemanticModel Semantics)? Forward(ITypeSymbol type, Compilation compilation, CancellationToken cancel)
    {
        if (type is not INamedTypeSymbol named || !ForwardSyntax.IsKilnNN(named)) return null;
        var attribute = named.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == SourceAttribute
            && a.AttributeClass.ContainingNamespace?.ToDisplayString() == "Kiln.Compilation");
        if (attribute is null || attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not string source) return null;
        var cache = Cache.GetOrCreateValue(compilation);
        string key = named.ToDisplayString();
        lock (cache)
        {
            if (cache.TryGetValue(key, out var known)) return known;
            var read = Read(named.Name, source, compilation, cancel);
            cache[key] = read;
            return read;
        }
    }

    static (IMethodSymbol, SemanticModel)? Read(string name, string source, Compilation compilation, CancellationToken cancel)
    {
        var options = compilation.SyntaxTrees.FirstOrDefault()?.Options as CSharpParseOptions ?? new CSharpParseOptions(LanguageVersion.Latest);
        var tree = CSharpSyntaxTree.ParseText(source, options, path: name + ".embedded.cs", cancellationToken: cancel);
        // Bound beside the user's code: the source's types take precedence over Kiln's compiled ones of the same name.
        var semantics = compilation.AddSyntaxTrees(tree).GetSemanticModel(tree);
        var declaration = tree.GetRoot(cancel).DescendantNodes().OfType<ClassDeclarationSyntax>().FirstOrDefault(c => c.Identifier.Text == name);
        if (declaration is null || semantics.GetDeclaredSymbol(declaration, cancel) is not INamedTypeSymbol layer) return null;
        var forward = layer.GetMembers("Forward").OfType<IMethodSymbol>()
            .FirstOrDefault(f => !f.IsStatic && f.Parameters.Length == 1 && ForwardSyntax.IsTensor(f.Parameters[0].Type) && ForwardSyntax.IsTensor(f.ReturnType));
        return forward is null ? null : (forward, semantics);
    }
}
