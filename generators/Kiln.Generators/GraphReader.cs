using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Compiler.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Generators;

/// <summary>
/// Reads a Forward body into the compiler's graph (<see cref="IrGraph"/>): from its one tensor parameter, through locals
/// and reassignments, calls of known layers (fields, properties, <c>Sequential</c> items; a TransformerEncoderLayer is
/// expanded into its attention, residual, norm and feed-forward nodes), <c>F.*</c> activations and dropout, Tensor
/// methods, and residual <c>+</c>. Anything else is reported by construct and location, and the model runs eagerly.
/// </summary>
internal static class GraphReader
{
    public sealed class Result
    {
        public IrGraph? Graph;
        public string? Unsupported;
        public SyntaxNode? Where;
    }

    sealed class Reader
    {
        public readonly IrBuilder Graph = new IrBuilder();
        public readonly Dictionary<ISymbol, int> Env = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        public SemanticModel Semantics = null!;
        public Result Result = null!;
    }

    public static Result Read(IMethodSymbol forward, SemanticModel semantics, CancellationToken cancel)
    {
        var result = new Result();
        if (forward.Parameters.Length != 1 || !IsTensor(forward.Parameters[0].Type) || !IsTensor(forward.ReturnType))
            return Fail(result, "a Forward that does not take one tensor and return one", forward.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancel));
        if (forward.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancel) is not MethodDeclarationSyntax method) return Fail(result, "Forward's declaration", null);
        SyntaxNode? body = (SyntaxNode?)method.Body ?? method.ExpressionBody;
        if (body is null || semantics.GetOperation(body, cancel) is not { } operation) return Fail(result, "Forward's body", method);
        var r = new Reader { Semantics = semantics, Result = result };
        r.Env[forward.Parameters[0]] = r.Graph.Input;
        int? returned = null;
        foreach (var statement in operation is IBlockOperation block ? block.Operations : ImmutableArrayOf(operation))
        {
            switch (statement)
            {
                case IVariableDeclarationGroupOperation group:
                    foreach (var d in group.Declarations.SelectMany(x => x.Declarators))
                    {
                        if (d.Initializer is null) return Fail(result, "a local without a value", d.Syntax);
                        if (Expr(d.Initializer.Value, r) is not { } v) return result;
                        r.Env[d.Symbol] = v;
                    }
                    break;
                case IExpressionStatementOperation { Operation: ISimpleAssignmentOperation assign }
                    when assign.Target is ILocalReferenceOperation or IParameterReferenceOperation:
                {
                    if (Expr(assign.Value, r) is not { } v) return result;
                    r.Env[assign.Target is ILocalReferenceOperation l ? l.Local : ((IParameterReferenceOperation)assign.Target).Parameter] = v;
                    break;
                }
                case IReturnOperation { ReturnedValue: { } value }:
                    if ((returned = Expr(value, r)) is null) return result;
                    break;
                default:
                    return Fail(result, Describe(statement), statement.Syntax);
            }
        }
        if (returned is null || !r.Graph.HasParameters) return Fail(result, "a Forward without a layer that has parameters", method);
        result.Graph = r.Graph.Build(returned.Value);
        return result;
    }

    static IEnumerable<IOperation> ImmutableArrayOf(IOperation op) => new[] { op };

    static int? Expr(IOperation op, Reader r)
    {
        while (op is IConversionOperation c) op = c.Operand;
        var result = r.Result;
        switch (op)
        {
            case IParameterReferenceOperation p when r.Env.TryGetValue(p.Parameter, out var pv): return pv;
            case ILocalReferenceOperation l when r.Env.TryGetValue(l.Local, out var lv): return lv;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } add when IsTensor(add.LeftOperand.Type) && IsTensor(add.RightOperand.Type):
            {
                // A residual connection: both sides of one shape (checked when the compiled model runs).
                if (Expr(add.LeftOperand, r) is not { } left || Expr(add.RightOperand, r) is not { } right) return null;
                return r.Graph.Add(IrOps.Add, new[] { left, right });
            }
            case IInvocationOperation call:
            {
                var m = call.TargetMethod;
                string type = m.ContainingType?.Name ?? "", ns = m.ContainingType?.ContainingNamespace?.ToDisplayString() ?? "";
                // layer.Forward(x) / layer.Call(x) on a field or property of the model.
                if ((m.Name == "Forward" || m.Name == "Call") && call.Arguments.Length == 1 && Member(call.Instance) is { } member)
                {
                    if (Expr(call.Arguments[0].Value, r) is not { } before) return null;
                    var after = Layer(r, "m." + member.Name, member.Type, Creation(member.Symbol, r.Semantics), before);
                    if (after is null) Fail(result, $"the layer {member.Type.Name} ({member.Name})", call.Syntax);
                    return after;
                }
                // F.Relu(x), F.Dropout(x, 0.2, Training), ...
                if (ns == "Kiln.NN" && type == "F" && call.Arguments.Length >= 1)
                {
                    if (Expr(call.Arguments[0].Value, r) is not { } before) return null;
                    var after = Functional(r, m.Name, call, before);
                    if (after is null) { Fail(result, "F." + m.Name + (m.Name == "Dropout" ? " with a non-constant probability or a training flag other than Training" : ""), call.Syntax); return null; }
                    return after;
                }
                // x.Flatten(1): to the last dim only.
                if (ns == "Kiln" && type == "Tensor" && m.Name == "Flatten" && call.Instance is not null
                    && call.Arguments.Length == 2 && call.Arguments[0].Value.ConstantValue.Value is int startDim
                    && call.Arguments[1].Value.ConstantValue.Value is -1)
                {
                    if (Expr(call.Instance, r) is not { } before) return null;
                    return r.Graph.Add(IrOps.Flatten, before, attr: startDim.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                // x.Relu(), x.Tanh(), ...
                if (ns == "Kiln" && type == "Tensor" && call.Instance is not null && call.Arguments.All(a => a.ArgumentKind == ArgumentKind.DefaultValue))
                {
                    if (Expr(call.Instance, r) is not { } before) return null;
                    if (Activation(m.Name) is not { } act) { Fail(result, "Tensor." + m.Name, call.Syntax); return null; }
                    return r.Graph.Add(IrOps.Activation, before, attr: act);
                }
                Fail(result, $"the call to {type}.{m.Name}", call.Syntax);
                return null;
            }
            default:
                Fail(result, "the expression '" + op.Syntax + "'", op.Syntax);
                return null;
        }
    }

    /// <summary>The value a layer computes from <paramref name="x"/>, reached by <paramref name="access"/> (an expression over the model <c>m</c>); null if it cannot be compiled.</summary>
    static int? Layer(Reader r, string access, ITypeSymbol type, IObjectCreationOperation? creation, int x)
    {
        var g = r.Graph;
        if (type.ContainingNamespace?.ToDisplayString() != "Kiln.NN") return null;
        switch (type.Name)
        {
            case "Linear": return g.Add(IrOps.Linear, x, access);
            case "Conv2d": return g.Add(IrOps.Conv2d, x, access);
            case "MaxPool2d": return g.Add(IrOps.MaxPool2d, x, access);
            case "LayerNorm": return g.Add(IrOps.LayerNorm, x, access);
            case "Flatten":
            {
                // new Flatten() / new Flatten(startDim): only flattening to the last dim is compiled.
                if (creation is null) return null;
                int start = 1;
                foreach (var a in creation.Arguments)
                {
                    if (a.ArgumentKind == ArgumentKind.DefaultValue) continue;
                    if (a.Parameter?.Name == "startDim" && a.Value.ConstantValue.Value is int sd) start = sd;
                    else if (!(a.Parameter?.Name == "endDim" && a.Value.ConstantValue.Value is -1)) return null;
                }
                return g.Add(IrOps.Flatten, x, attr: start.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            case "Dropout": return Dropout(g, access, x);
            case "ReLU": return g.Add(IrOps.Activation, x, attr: "relu");
            case "Tanh": return g.Add(IrOps.Activation, x, attr: "tanh");
            case "Sigmoid": return g.Add(IrOps.Activation, x, attr: "sigmoid");
            case "SiLU": return g.Add(IrOps.Activation, x, attr: "silu");
            case "GELU":
            {
                // The approximation is a constructor argument, read from the creation expression.
                if (creation is null) return null;
                var arg = creation.Arguments.FirstOrDefault(a => a.ArgumentKind != ArgumentKind.DefaultValue);
                return arg is null || arg.Value.ConstantValue.Value is "none" ? g.Add(IrOps.Activation, x, attr: "gelu")
                    : arg.Value.ConstantValue.Value is "tanh" ? g.Add(IrOps.Activation, x, attr: "gelu_tanh") : null;
            }
            case "TransformerEncoderLayer": return EncoderLayer(g, access, creation, x);
            case "Sequential":
            {
                // new Sequential(new Linear(...), new ReLU(), ...): each item in turn, reached through the indexer with its type.
                if (creation is null) return null;
                var items = creation.Arguments.Length == 1 && creation.Arguments[0].Value is IArrayCreationOperation { Initializer: { } init } ? init.ElementValues : default;
                if (items.IsDefault) return null;
                int h = x;
                for (int i = 0; i < items.Length; i++)
                {
                    var item = items[i];
                    while (item is IConversionOperation c) item = c.Operand;
                    if (item is not IObjectCreationOperation { Type: { } itemType } itemCreation) return null;
                    string itemAccess = $"(({itemType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)}){access}[{i}])";
                    if (Layer(r, itemAccess, itemType, itemCreation, h) is not { } next) return null;
                    h = next;
                }
                return h;
            }
            default: return null;
        }
    }

    static int Dropout(IrBuilder g, string access, int x) => g.Add(IrOps.Dropout, x, attr: $"{access}.P", attr2: $"{access}.Training");

    /// <summary>
    /// nn.TransformerEncoderLayer as its parts (self-attention, dropout, residual add, LayerNorm, the feed-forward block),
    /// post-norm or pre-norm as its creation says; the compiled model checks at run time that the layer is configured so.
    /// </summary>
    static int? EncoderLayer(IrBuilder g, string access, IObjectCreationOperation? creation, int x)
    {
        if (creation is null) return null;
        bool normFirst = false;
        string activation = "relu";
        foreach (var a in creation.Arguments)
        {
            if (a.ArgumentKind == ArgumentKind.DefaultValue) continue;
            object? value = a.Value.ConstantValue.HasValue ? a.Value.ConstantValue.Value : null;
            switch (a.Parameter?.Name)
            {
                case "normFirst": if (value is bool nf) normFirst = nf; else return null; break;
                case "activation": if (value is "relu" or "gelu") activation = (string)value; else return null; break;
            }
        }
        g.Require($"{access}.NormFirst == {(normFirst ? "true" : "false")}");
        g.Require($"{access}.Activation == \"{activation}\"");
        g.Require($"{access}.BatchFirst");
        int Attention(int h) => Dropout(g, access + ".Dropout1", g.Add(IrOps.SelfAttention, h, access + ".SelfAttn"));
        int FeedForward(int h)
        {
            h = g.Add(IrOps.Activation, g.Add(IrOps.Linear, h, access + ".Linear1"), attr: activation);
            h = g.Add(IrOps.Linear, Dropout(g, access + ".FeedForwardDropout", h), access + ".Linear2");
            return Dropout(g, access + ".Dropout2", h);
        }
        if (normFirst)
        {
            x = g.Add(IrOps.Add, new[] { x, Attention(g.Add(IrOps.LayerNorm, x, access + ".Norm1")) });
            return g.Add(IrOps.Add, new[] { x, FeedForward(g.Add(IrOps.LayerNorm, x, access + ".Norm2")) });
        }
        x = g.Add(IrOps.LayerNorm, g.Add(IrOps.Add, new[] { x, Attention(x) }), access + ".Norm1");
        return g.Add(IrOps.LayerNorm, g.Add(IrOps.Add, new[] { x, FeedForward(x) }), access + ".Norm2");
    }

    /// <summary>The object creation in a field's or auto-property's initializer, if it has one.</summary>
    static IObjectCreationOperation? Creation(ISymbol member, SemanticModel semantics)
    {
        foreach (var r in member.DeclaringSyntaxReferences)
        {
            if (r.SyntaxTree != semantics.SyntaxTree) continue;
            var value = r.GetSyntax() switch
            {
                VariableDeclaratorSyntax { Initializer: { } init } => init.Value,
                PropertyDeclarationSyntax { Initializer: { } init } => init.Value,
                _ => null,
            };
            if (value is not null && semantics.GetOperation(value) is { } op)
            {
                while (op is IConversionOperation c) op = c.Operand;
                if (op is IObjectCreationOperation create) return create;
            }
        }
        return null;
    }

    static int? Functional(Reader r, string name, IInvocationOperation call, int x)
    {
        var g = r.Graph;
        if (name == "Gelu")
        {
            var approx = call.Arguments.Length > 1 ? call.Arguments[1].Value.ConstantValue.Value : "none";
            return approx is "none" ? g.Add(IrOps.Activation, x, attr: "gelu") : approx is "tanh" ? g.Add(IrOps.Activation, x, attr: "gelu_tanh") : null;
        }
        if (name == "Dropout")
        {
            // F.Dropout(x, p, training): p a constant, training the model's own flag.
            var p = call.Arguments.Length > 1 ? call.Arguments[1].Value.ConstantValue : default;
            var training = call.Arguments.Length > 2 ? call.Arguments[2].Value : null;
            if (!p.HasValue || p.Value is not double pv) return null;
            if (training is not IPropertyReferenceOperation { Property.Name: "Training" } && training?.ConstantValue.Value is not true) return null;
            string flag = training is IPropertyReferenceOperation ? "m.Training" : "true";
            return g.Add(IrOps.Dropout, x, attr: pv.ToString("R", System.Globalization.CultureInfo.InvariantCulture), attr2: flag);
        }
        return Activation(name) is { } act && call.Arguments.Length == 1 ? g.Add(IrOps.Activation, x, attr: act) : null;
    }

    static string? Activation(string method) => method switch
    {
        "Relu" => "relu", "Tanh" => "tanh", "Sigmoid" => "sigmoid", "Silu" => "silu", "Gelu" => "gelu", _ => null,
    };

    static (string Name, ITypeSymbol Type, ISymbol Symbol)? Member(IOperation? instance) => instance switch
    {
        IFieldReferenceOperation { Instance: IInstanceReferenceOperation } f => (f.Field.Name, f.Field.Type, f.Field),
        IPropertyReferenceOperation { Instance: IInstanceReferenceOperation } p => (p.Property.Name, p.Property.Type, p.Property),
        _ => null,
    };

    static bool IsTensor(ITypeSymbol? t) => t is not null && t.Name == "Tensor" && t.ContainingNamespace?.ToDisplayString() == "Kiln";

    static string Describe(IOperation op) => op.Kind switch
    {
        OperationKind.Conditional => "an if statement",
        OperationKind.Loop => "a loop",
        _ => "a " + op.Kind.ToString().ToLowerInvariant() + " statement",
    };

    static Result Fail(Result r, string construct, SyntaxNode? where)
    {
        r.Graph = null;
        r.Unsupported ??= construct;
        r.Where ??= where;
        return r;
    }
}
