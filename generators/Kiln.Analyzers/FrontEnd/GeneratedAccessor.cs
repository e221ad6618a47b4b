namespace Kiln.Analyzers.FrontEnd;

/// <summary>
/// The internal accessors the generator gives every [Model] class for its layers, so a model that uses it as a block can
/// inline its Forward (and reach its private layers) in its own compiled kernels.
/// </summary>
internal static class GeneratedAccessor
{
    public const string Prefix = "__Kiln_";

    /// <summary>Whether an internal accessor may return <paramref name="t"/> (no private or protected type in it).</summary>
    public static bool CanExpose(Microsoft.CodeAnalysis.ITypeSymbol t)
    {
        for (Microsoft.CodeAnalysis.ISymbol? s = t; s is Microsoft.CodeAnalysis.INamedTypeSymbol n; s = n.ContainingType)
            if (n.DeclaredAccessibility is Microsoft.CodeAnalysis.Accessibility.Private or Microsoft.CodeAnalysis.Accessibility.Protected
                or Microsoft.CodeAnalysis.Accessibility.ProtectedAndInternal) return false;
        return t is not Microsoft.CodeAnalysis.INamedTypeSymbol g || System.Linq.Enumerable.All(g.TypeArguments, CanExpose);
    }

    /// <summary>Whether a member of type <paramref name="t"/> is a setting compiled code reads as it runs (a number or a flag).</summary>
    public static bool IsSetting(Microsoft.CodeAnalysis.ITypeSymbol? t) => t?.SpecialType is Microsoft.CodeAnalysis.SpecialType.System_Int32
        or Microsoft.CodeAnalysis.SpecialType.System_Int64 or Microsoft.CodeAnalysis.SpecialType.System_Single
        or Microsoft.CodeAnalysis.SpecialType.System_Double or Microsoft.CodeAnalysis.SpecialType.System_Boolean;
}
