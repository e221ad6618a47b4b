using Kiln.Compiler.Shapes;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.FrontEnd;

/// <summary>One layer a model builds: its type, its constructor arguments by parameter name, and where it is built.</summary>
internal sealed class LayerSpec
{
    public LayerSpec(string kind, Dictionary<string, object?> args, Dictionary<string, Location> argLocations, Location creation)
    {
        Kind = kind;
        Args = args;
        ArgLocations = argLocations;
        Creation = creation;
    }

    /// <summary>The layer's class name (Linear, Conv2d, ...).</summary>
    public string Kind { get; }
    /// <summary>Evaluated arguments (a size as <see cref="SymbolicDim"/>, sizes as an array of them, bool, double, or null where unknown), defaults included.</summary>
    public Dictionary<string, object?> Args { get; }
    public Dictionary<string, Location> ArgLocations { get; }
    public Location Creation { get; }

    /// <summary>The layers a ModuleList or Sequential was built with, in order (null when not known at build time).</summary>
    public IReadOnlyList<LayerSpec>? Items { get; set; }

    /// <summary>An integer argument that is a number (kernel sizes, strides, groups, dims).</summary>
    public int? Int(string name) => Evaluate.AsInt(Args.TryGetValue(name, out var v) ? v : null);
    /// <summary>A size argument, a number or symbolic (a constructor parameter, arithmetic of those).</summary>
    public SymbolicDim? Size(string name) => Args.TryGetValue(name, out var v) ? v as SymbolicDim : null;
    public bool Bool(string name, bool fallback) => Args.TryGetValue(name, out var v) && v is bool b ? b : fallback;
}

/// <summary>
/// A [Model] class's layers as the shape rules read them: Kiln.NN layers and the <c>new</c> expression that builds each
/// one (<see cref="MemberCreation"/>). Constructor arguments are evaluated as constants, symbolic dims (constructor
/// parameters) or simple arithmetic of those.
/// </summary>
internal static class ModelLayers
{
    /// <summary>The layers the fields and auto-properties of <paramref name="model"/> are built as, in this file.</summary>
    public static List<LayerSpec> Read(INamedTypeSymbol model, SemanticModel semantics, System.Threading.CancellationToken cancel)
    {
        var layers = new List<LayerSpec>();
        foreach (var member in model.GetMembers())
        {
            cancel.ThrowIfCancellationRequested();
            if (member is not IFieldSymbol { IsStatic: false } and not IPropertySymbol { IsStatic: false }) continue;
            if (MemberCreation.Of(member, semantics) is { } create && SpecOf(create) is { } spec) layers.Add(spec);
        }
        return layers;
    }

    /// <summary>The layer an object creation builds; containers (ModuleList, Sequential) with the layers listed in it. Null for a type outside Kiln.NN.</summary>
    public static LayerSpec? SpecOf(IObjectCreationOperation create)
    {
        if (create.Type is not INamedTypeSymbol type || !ForwardSyntax.IsKilnNN(type)) return null;
        if (type.Name is "ModuleList" or "Sequential")
        {
            var spec = new LayerSpec(type.Name, new Dictionary<string, object?>(), new Dictionary<string, Location>(), create.Syntax.GetLocation());
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
                    if (e.UnwrapConversions() is not IObjectCreationOperation item || SpecOf(item) is not { } itemSpec) return spec;
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
            args[a.Parameter.Name] = Evaluate.Value(a.Value);
            if (a.ArgumentKind != ArgumentKind.DefaultValue) locations[a.Parameter.Name] = a.Value.Syntax.GetLocation();
        }
        return new LayerSpec(type.Name, args, locations, create.Syntax.GetLocation());
    }
}

/// <summary>Compile-time values of constructor and method arguments.</summary>
internal static class Evaluate
{
    /// <summary>A size (<see cref="SymbolicDim"/>: a number, a constructor parameter or arithmetic of those), sizes, bool, double or string the argument is known to be; null where unknown.</summary>
    public static object? Value(IOperation op)
    {
        op = op.UnwrapConversions();
        if (op.ConstantValue.HasValue)
            return op.ConstantValue.Value switch
            {
                int i => SymbolicDim.Constant(i),
                long l => SymbolicDim.Constant(l),
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
                return SymbolicDim.Symbol(p.Parameter.Name);
            case IBinaryOperation b when Value(b.LeftOperand) is SymbolicDim l && Value(b.RightOperand) is SymbolicDim r:
                return Arithmetic(b.OperatorKind, l, r);
            case IArrayCreationOperation { Initializer: { } init }:
                return Sizes(init.ElementValues);
            case ICollectionExpressionOperation c:
                return Sizes(c.Elements);
            default:
                return null;
        }
    }

    /// <summary>
    /// +, -, * of sizes, and / where it is exact (or both are numbers: C#'s integer division); null for other operators,
    /// a division by zero or a symbolic quotient that is not whole.
    /// </summary>
    public static SymbolicDim? Arithmetic(BinaryOperatorKind kind, SymbolicDim l, SymbolicDim r)
    {
        switch (kind)
        {
            case BinaryOperatorKind.Add: return l + r;
            case BinaryOperatorKind.Subtract: return l - r;
            case BinaryOperatorKind.Multiply: return l * r;
            case BinaryOperatorKind.Divide:
                if (l.TryConstant(out long a) && r.TryConstant(out long b)) return b == 0 ? null : SymbolicDim.Constant(a / b);
                return SymbolicDim.TryDivide(l, r, out var q) ? q : null;
            default: return null;
        }
    }

    /// <summary>A value as a number, when it is one.</summary>
    public static int? AsInt(object? value) =>
        value is SymbolicDim d && d.TryConstant(out long v) && v >= int.MinValue && v <= int.MaxValue ? (int)v : null;

    /// <summary>Sizes as numbers, when every one is.</summary>
    public static int[]? AsInts(SymbolicDim[] sizes)
    {
        var r = new int[sizes.Length];
        for (int i = 0; i < r.Length; i++)
            if (AsInt(sizes[i]) is int v) r[i] = v;
            else return null;
        return r;
    }

    static SymbolicDim[]? Sizes(IEnumerable<IOperation> elements)
    {
        var values = elements.Select(Value).ToArray();
        return values.All(v => v is SymbolicDim) ? values.Cast<SymbolicDim>().ToArray() : null;
    }
}
