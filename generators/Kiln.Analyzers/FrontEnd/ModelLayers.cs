using Kiln.Compiler.Shapes;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.FrontEnd;

/// <summary>One layer a model's field holds: its type, its constructor arguments by parameter name, and where it is built.</summary>
internal sealed class LayerSpec
{
    public LayerSpec(IFieldSymbol field, string kind, Dictionary<string, object?> args, Dictionary<string, Location> argLocations, Location creation)
    {
        Field = field;
        Kind = kind;
        Args = args;
        ArgLocations = argLocations;
        Creation = creation;
    }

    public IFieldSymbol Field { get; }
    /// <summary>The layer's class name (Linear, Conv2d, ...).</summary>
    public string Kind { get; }
    /// <summary>Evaluated arguments (int, int[], bool, double, or null where unknown), defaults included.</summary>
    public Dictionary<string, object?> Args { get; }
    public Dictionary<string, Location> ArgLocations { get; }
    public Location Creation { get; }

    /// <summary>The layers a ModuleList or Sequential was built with, in order (null when not known at build time).</summary>
    public IReadOnlyList<LayerSpec>? Items { get; set; }

    public int? Int(string name) => Args.TryGetValue(name, out var v) && v is int i ? i : null;
    public bool Bool(string name, bool fallback) => Args.TryGetValue(name, out var v) && v is bool b ? b : fallback;
}

/// <summary>
/// Reads a [Model] class's layers: fields of Kiln.NN layer types and the <c>new</c> expression that builds each one,
/// in a field initializer or a constructor assignment. Constructor arguments are evaluated as constants, symbolic
/// dims (constructor parameters) or simple arithmetic of those.
/// </summary>
internal static class ModelLayers
{
    public static Dictionary<IFieldSymbol, LayerSpec> Read(INamedTypeSymbol model, SemanticModel semantics, SymbolicDims dims, System.Threading.CancellationToken cancel)
    {
        var layers = new Dictionary<IFieldSymbol, LayerSpec>(SymbolEqualityComparer.Default);
        foreach (var reference in model.DeclaringSyntaxReferences)
        {
            if (reference.SyntaxTree != semantics.SyntaxTree) continue;
            foreach (var node in reference.GetSyntax(cancel).DescendantNodes())
            {
                var op = semantics.GetOperation(node, cancel);
                switch (op)
                {
                    case IFieldInitializerOperation init when init.Value.UnwrapConversions() is IObjectCreationOperation create:
                        foreach (var f in init.InitializedFields) Add(layers, f, create, dims);
                        break;
                    case ISimpleAssignmentOperation assign when assign.Target is IFieldReferenceOperation fr
                                                           && assign.Value.UnwrapConversions() is IObjectCreationOperation create
                                                           && SymbolEqualityComparer.Default.Equals(fr.Field.ContainingType, model):
                        Add(layers, fr.Field, create, dims);
                        break;
                }
            }
        }
        return layers;
    }

    static void Add(Dictionary<IFieldSymbol, LayerSpec> layers, IFieldSymbol field, IObjectCreationOperation create, SymbolicDims dims)
    {
        if (layers.ContainsKey(field) || Spec(field, create, dims) is not { } spec) return;
        layers[field] = spec;
    }

    /// <summary>The layer an object creation builds; containers (ModuleList, Sequential) with the layers listed in it.</summary>
    static LayerSpec? Spec(IFieldSymbol field, IObjectCreationOperation create, SymbolicDims dims)
    {
        if (create.Type is not INamedTypeSymbol type || !IsKilnNN(type)) return null;
        if (type.Name is "ModuleList" or "Sequential")
        {
            var spec = new LayerSpec(field, type.Name, new Dictionary<string, object?>(), new Dictionary<string, Location>(), create.Syntax.GetLocation());
            var items = new List<LayerSpec>();
            foreach (var a in create.Arguments)
            {
                var elements = a.Value.UnwrapConversions() switch
                {
                    IArrayCreationOperation { Initializer: { } init } => init.ElementValues,
                    ICollectionExpressionOperation c => c.Elements,
                    _ => default(System.Collections.Immutable.ImmutableArray<IOperation>?),
                };
                if (elements is null) return spec;   // built some other way: items unknown
                foreach (var e in elements.Value)
                {
                    if (e.UnwrapConversions() is not IObjectCreationOperation item || Spec(field, item, dims) is not { } itemSpec) return spec;
                    items.Add(itemSpec);
                }
            }
            spec.Items = items;
            return spec;
        }
        var args = new Dictionary<string, object?>();
        var locations = new Dictionary<string, Location>();
        foreach (var a in create.Arguments)
        {
            if (a.Parameter is null) continue;
            args[a.Parameter.Name] = Evaluate.Value(a.Value, dims);
            if (a.ArgumentKind != ArgumentKind.DefaultValue) locations[a.Parameter.Name] = a.Value.Syntax.GetLocation();
        }
        return new LayerSpec(field, type.Name, args, locations, create.Syntax.GetLocation());
    }

    public static bool IsKilnNN(ITypeSymbol type) => type.ContainingNamespace?.ToDisplayString() == "Kiln.NN";

    public static IOperation UnwrapConversions(this IOperation op)
    {
        while (op is IConversionOperation c) op = c.Operand;
        return op;
    }
}

/// <summary>Compile-time values of constructor and method arguments.</summary>
internal static class Evaluate
{
    /// <summary>An int, int[], bool, double or string the argument is known to be; null where unknown.</summary>
    public static object? Value(IOperation op, SymbolicDims dims)
    {
        op = op.UnwrapConversions();
        if (op.ConstantValue.HasValue)
            return op.ConstantValue.Value switch
            {
                int i => i,
                long l => (int)l,
                double d => d,
                float f => (double)f,
                bool b => b,
                string s => s,
                null => null,
                _ => null,
            };
        switch (op)
        {
            case IParameterReferenceOperation p when p.Parameter.Type.SpecialType == SpecialType.System_Int32
                                                   && p.Parameter.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor }:
                return dims.Of(p.Parameter.Name);
            case IBinaryOperation b when Value(b.LeftOperand, dims) is int l && Value(b.RightOperand, dims) is int r:
                return Arithmetic(b.OperatorKind, l, r);
            case IArrayCreationOperation { Initializer: { } init }:
                return Ints(init.ElementValues, dims);
            case ICollectionExpressionOperation c:
                return Ints(c.Elements, dims);
            default:
                return null;
        }
    }

    /// <summary>Integer +, -, *, / of sizes (null for other operators or a division by zero).</summary>
    public static int? Arithmetic(BinaryOperatorKind kind, int l, int r) => kind switch
    {
        BinaryOperatorKind.Add => l + r,
        BinaryOperatorKind.Subtract => l - r,
        BinaryOperatorKind.Multiply => l * r,
        BinaryOperatorKind.Divide when r != 0 => l / r,
        _ => null,
    };

    static int[]? Ints(IEnumerable<IOperation> elements, SymbolicDims dims)
    {
        var values = elements.Select(e => Value(e, dims)).ToArray();
        return values.All(v => v is int) ? values.Cast<int>().ToArray() : null;
    }
}
