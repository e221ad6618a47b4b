using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.FrontEnd;

/// <summary>
/// The syntax facts of a model's Forward that the front end (<see cref="ForwardReader"/>) and its passes share: which
/// types are Kiln's tensors and modules, how a branch on <c>Training</c> looks, how an unfollowed statement is named in
/// a diagnostic.
/// </summary>
internal static class ForwardSyntax
{
    /// <summary>The operation under any implicit or explicit conversions.</summary>
    public static IOperation UnwrapConversions(this IOperation op)
    {
        while (op is IConversionOperation c) op = c.Operand;
        return op;
    }

    /// <summary>Whether <paramref name="type"/> is <c>Kiln.Tensor</c>.</summary>
    public static bool IsTensor(ITypeSymbol? type) => type is { Name: "Tensor" } t && t.ContainingNamespace?.ToDisplayString() == "Kiln";

    /// <summary>Whether <paramref name="type"/> is <c>Kiln.TensorScope</c>.</summary>
    public static bool IsTensorScope(ITypeSymbol? type) => type is { Name: "TensorScope" } t && t.ContainingNamespace?.ToDisplayString() == "Kiln";

    /// <summary>Whether a <c>using</c> declaration only opens tensor scopes (<c>using var scope = Tensor.Scope();</c>).</summary>
    public static bool IsTensorScope(IVariableDeclarationGroupOperation group) =>
        group.Declarations.All(d => d.Declarators.All(v => IsTensorScope(v.Symbol.Type)));

    /// <summary>Whether <paramref name="type"/> is declared in <c>Kiln.NN</c> (a built-in layer or container).</summary>
    public static bool IsKilnNN(ITypeSymbol type) => type.ContainingNamespace?.ToDisplayString() == "Kiln.NN";

    /// <summary>Whether <paramref name="type"/> derives from <c>Kiln.NN.Module</c>.</summary>
    public static bool IsModule(ITypeSymbol? type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.Name == "Module" && IsKilnNN(t)) return true;
        return false;
    }

    /// <summary>
    /// True for a test of <c>Training</c>, false for <c>!Training</c>, null for any other condition. With
    /// <paramref name="ownOnly"/> only the model's own flag counts (<c>Training</c> or <c>this.Training</c>: the generator
    /// compiles one graph per mode of this model); otherwise any module's.
    /// </summary>
    public static bool? TrainingTest(IOperation condition, bool ownOnly)
    {
        condition = condition.UnwrapConversions();
        if (condition is IPropertyReferenceOperation { Property.Name: "Training" } p && IsModule(p.Property.ContainingType)
            && (!ownOnly || p.Instance is IInstanceReferenceOperation))
            return true;
        if (condition is IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not && TrainingTest(not.Operand, ownOnly) is { } inner) return !inner;
        return null;
    }

    /// <summary>A statement the readers do not follow, as a diagnostic names it ("an if statement", "a loop").</summary>
    public static string Describe(IOperation op) => op.Kind switch
    {
        OperationKind.Conditional => "an if statement",
        OperationKind.Loop => "a loop",
        OperationKind.ExpressionStatement => "the statement '" + op.Syntax + "'",
        _ => "a " + op.Kind.ToString().ToLowerInvariant() + " statement",
    };
}
