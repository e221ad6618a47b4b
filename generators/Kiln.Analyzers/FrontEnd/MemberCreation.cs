using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.FrontEnd;

/// <summary>The <c>new</c> expression that builds a module's member: its initializer, or an assignment in a constructor of its class.</summary>
internal static class MemberCreation
{
    /// <summary>The creation of <paramref name="member"/> read with <paramref name="semantics"/> (its declaring tree's), or null.</summary>
    public static IObjectCreationOperation? Of(ISymbol member, SemanticModel semantics)
    {
        foreach (var ctor in (member.ContainingType?.Constructors).GetValueOrDefault())
            foreach (var reference in ctor.DeclaringSyntaxReferences)
            {
                if (reference.SyntaxTree != semantics.SyntaxTree) continue;
                foreach (var node in reference.GetSyntax().DescendantNodes().OfType<AssignmentExpressionSyntax>())
                    if (semantics.GetOperation(node) is ISimpleAssignmentOperation { Target: IMemberReferenceOperation target } assign
                        && SymbolEqualityComparer.Default.Equals(target.Member, member)
                        && assign.Value.UnwrapConversions() is IObjectCreationOperation create)
                        return create;
            }
        foreach (var r in member.DeclaringSyntaxReferences)
        {
            if (r.SyntaxTree != semantics.SyntaxTree) continue;
            var value = r.GetSyntax() switch
            {
                VariableDeclaratorSyntax { Initializer: { } init } => init.Value,
                PropertyDeclarationSyntax { Initializer: { } init } => init.Value,
                _ => null,
            };
            if (value is not null && semantics.GetOperation(value)?.UnwrapConversions() is IObjectCreationOperation create) return create;
        }
        return null;
    }
}
