using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Compiler.Emit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Generators;

/// <summary>
/// Reads a Forward body into the dense-chain form the compiler fuses today: from its one tensor parameter, a chain of
/// Linear layers, activations (layers, <c>F.*</c> or Tensor methods) and dropout, through locals and reassignments.
/// Anything else is reported by construct and location, and the model runs eagerly.
/// </summary>
internal static class ChainReader
{
    public sealed class Result
    {
        public List<ChainStep>? Steps;
        public string? Unsupported;
        public SyntaxNode? Where;
    }

    public static Result Read(IMethodSymbol forward, SemanticModel semantics, CancellationToken cancel)
    {
        var result = new Result();
        if (forward.Parameters.Length != 1 || !IsTensor(forward.Parameters[0].Type) || !IsTensor(forward.ReturnType))
            return Fail(result, "a Forward that does not take one tensor and return one", forward.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancel));
        if (forward.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancel) is not MethodDeclarationSyntax method) return Fail(result, "Forward's declaration", null);
        SyntaxNode? body = (SyntaxNode?)method.Body ?? method.ExpressionBody;
        if (body is null || semantics.GetOperation(body, cancel) is not { } operation) return Fail(result, "Forward's body", method);
        var env = new Dictionary<ISymbol, List<ChainStep>>(SymbolEqualityComparer.Default) { [forward.Parameters[0]] = new List<ChainStep>() };
        List<ChainStep>? returned = null;
        foreach (var statement in operation is IBlockOperation block ? block.Operations : ImmutableArrayOf(operation))
        {
            switch (statement)
            {
                case IVariableDeclarationGroupOperation group:
                    foreach (var d in group.Declarations.SelectMany(x => x.Declarators))
                    {
                        if (d.Initializer is null) return Fail(result, "a local without a value", d.Syntax);
                        if (Expr(d.Initializer.Value, env, semantics, result) is not { } v) return result;
                        env[d.Symbol] = v;
                    }
                    break;
                case IExpressionStatementOperation { Operation: ISimpleAssignmentOperation assign }
                    when assign.Target is ILocalReferenceOperation or IParameterReferenceOperation:
                {
                    if (Expr(assign.Value, env, semantics, result) is not { } v) return result;
                    env[assign.Target is ILocalReferenceOperation l ? l.Local : ((IParameterReferenceOperation)assign.Target).Parameter] = v;
                    break;
                }
                case IReturnOperation { ReturnedValue: { } value }:
                    if ((returned = Expr(value, env, semantics, result)) is null) return result;
                    break;
                default:
                    return Fail(result, Describe(statement), statement.Syntax);
            }
        }
        if (returned is null || !returned.Any(s => s.Kind is "linear" or "conv2d")) return Fail(result, "a Forward without a Linear or Conv2d layer", method);
        result.Steps = returned;
        return result;
    }

    static IEnumerable<IOperation> ImmutableArrayOf(IOperation op) => new[] { op };

    static List<ChainStep>? Expr(IOperation op, Dictionary<ISymbol, List<ChainStep>> env, SemanticModel semantics, Result result)
    {
        while (op is IConversionOperation c) op = c.Operand;
        switch (op)
        {
            case IParameterReferenceOperation p when env.TryGetValue(p.Parameter, out var pv): return new List<ChainStep>(pv);
            case ILocalReferenceOperation l when env.TryGetValue(l.Local, out var lv): return new List<ChainStep>(lv);
            case IInvocationOperation call:
            {
                var m = call.TargetMethod;
                string type = m.ContainingType?.Name ?? "", ns = m.ContainingType?.ContainingNamespace?.ToDisplayString() ?? "";
                // layer.Forward(x) / layer.Call(x) on a field or property of the model.
                if ((m.Name == "Forward" || m.Name == "Call") && call.Arguments.Length == 1 && Member(call.Instance) is { } member)
                {
                    if (Expr(call.Arguments[0].Value, env, semantics, result) is not { } before) return null;
                    var steps = LayerSteps("m." + member.Name, member.Type, Creation(member.Symbol, semantics));
                    if (steps is null) return Fail(result, $"the layer {member.Type.Name} ({member.Name})", call.Syntax).Steps;
                    before.AddRange(steps);
                    return before;
                }
                // F.Relu(x), F.Dropout(x, 0.2, Training), ...
                if (ns == "Kiln.NN" && type == "F" && call.Arguments.Length >= 1)
                {
                    if (Expr(call.Arguments[0].Value, env, semantics, result) is not { } before) return null;
                    var step = FunctionalStep(m.Name, call);
                    if (step is null) return Fail(result, "F." + m.Name + (m.Name == "Dropout" ? " with a non-constant probability or a training flag other than Training" : ""), call.Syntax).Steps;
                    before.Add(step);
                    return before;
                }
                // x.Flatten(1): to the last dim only.
                if (ns == "Kiln" && type == "Tensor" && m.Name == "Flatten" && call.Instance is not null
                    && call.Arguments.Length == 2 && call.Arguments[0].Value.ConstantValue.Value is int startDim
                    && call.Arguments[1].Value.ConstantValue.Value is -1)
                {
                    if (Expr(call.Instance, env, semantics, result) is not { } before) return null;
                    before.Add(ChainStep.Flatten(startDim));
                    return before;
                }
                // x.Relu(), x.Tanh(), ...
                if (ns == "Kiln" && type == "Tensor" && call.Instance is not null && call.Arguments.All(a => a.ArgumentKind == ArgumentKind.DefaultValue))
                {
                    if (Expr(call.Instance, env, semantics, result) is not { } before) return null;
                    if (Activation(m.Name) is not { } act) return Fail(result, "Tensor." + m.Name, call.Syntax).Steps;
                    before.Add(ChainStep.Activation(act));
                    return before;
                }
                return Fail(result, $"the call to {type}.{m.Name}", call.Syntax).Steps;
            }
            default:
                return Fail(result, "the expression '" + op.Syntax + "'", op.Syntax).Steps;
        }
    }

    /// <summary>The steps a layer contributes, reached by <paramref name="access"/> (an expression over the model <c>m</c>); null if it cannot be fused.</summary>
    static List<ChainStep>? LayerSteps(string access, ITypeSymbol type, IObjectCreationOperation? creation)
    {
        if (type.ContainingNamespace?.ToDisplayString() != "Kiln.NN") return null;
        switch (type.Name)
        {
            case "Linear": return new List<ChainStep> { ChainStep.Linear(access) };
            case "Conv2d": return new List<ChainStep> { ChainStep.Conv2d(access) };
            case "MaxPool2d": return new List<ChainStep> { ChainStep.MaxPool2d(access) };
            case "Flatten":
            {
                // new Flatten() / new Flatten(startDim): only flattening to the last dim is fused.
                if (creation is null) return null;
                int start = 1;
                foreach (var a in creation.Arguments)
                {
                    if (a.ArgumentKind == ArgumentKind.DefaultValue) continue;
                    if (a.Parameter?.Name == "startDim" && a.Value.ConstantValue.Value is int sd) start = sd;
                    else if (!(a.Parameter?.Name == "endDim" && a.Value.ConstantValue.Value is -1)) return null;
                }
                return new List<ChainStep> { ChainStep.Flatten(start) };
            }
            case "Dropout": return new List<ChainStep> { ChainStep.Dropout($"{access}.P", $"{access}.Training") };
            case "ReLU": return new List<ChainStep> { ChainStep.Activation("relu") };
            case "Tanh": return new List<ChainStep> { ChainStep.Activation("tanh") };
            case "Sigmoid": return new List<ChainStep> { ChainStep.Activation("sigmoid") };
            case "SiLU": return new List<ChainStep> { ChainStep.Activation("silu") };
            case "GELU":
            {
                // The approximation is a constructor argument, read from the creation expression.
                var arg = creation?.Arguments.FirstOrDefault(a => a.ArgumentKind != ArgumentKind.DefaultValue);
                if (creation is null) return null;
                return arg is null || arg.Value.ConstantValue.Value is "none" ? new List<ChainStep> { ChainStep.Activation("gelu") }
                    : arg.Value.ConstantValue.Value is "tanh" ? new List<ChainStep> { ChainStep.Activation("gelu_tanh") } : null;
            }
            case "Sequential":
            {
                // new Sequential(new Linear(...), new ReLU(), ...): each item in turn, reached through the indexer with its type.
                if (creation is null) return null;
                var items = creation.Arguments.Length == 1 && creation.Arguments[0].Value is IArrayCreationOperation { Initializer: { } init } ? init.ElementValues : default;
                if (items.IsDefault) return null;
                var steps = new List<ChainStep>();
                for (int i = 0; i < items.Length; i++)
                {
                    var item = items[i];
                    while (item is IConversionOperation c) item = c.Operand;
                    if (item is not IObjectCreationOperation { Type: { } itemType } itemCreation) return null;
                    string itemAccess = $"(({itemType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)}){access}[{i}])";
                    if (LayerSteps(itemAccess, itemType, itemCreation) is not { } itemSteps) return null;
                    steps.AddRange(itemSteps);
                }
                return steps;
            }
            default: return null;
        }
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

    static ChainStep? FunctionalStep(string name, IInvocationOperation call)
    {
        if (name == "Gelu")
        {
            var approx = call.Arguments.Length > 1 ? call.Arguments[1].Value.ConstantValue.Value : "none";
            return approx is "none" ? ChainStep.Activation("gelu") : approx is "tanh" ? ChainStep.Activation("gelu_tanh") : null;
        }
        if (name == "Dropout")
        {
            // F.Dropout(x, p, training): p a constant, training the model's own flag.
            var p = call.Arguments.Length > 1 ? call.Arguments[1].Value.ConstantValue : default;
            var training = call.Arguments.Length > 2 ? call.Arguments[2].Value : null;
            if (!p.HasValue || p.Value is not double pv) return null;
            if (training is not IPropertyReferenceOperation { Property.Name: "Training" } && training?.ConstantValue.Value is not true) return null;
            string flag = training is IPropertyReferenceOperation ? "m.Training" : "true";
            return ChainStep.Dropout(pv.ToString("R", System.Globalization.CultureInfo.InvariantCulture), flag);
        }
        return Activation(name) is { } act && call.Arguments.Length == 1 ? ChainStep.Activation(act) : null;
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

    static bool IsTensor(ITypeSymbol t) => t.Name == "Tensor" && t.ContainingNamespace?.ToDisplayString() == "Kiln";

    static string Describe(IOperation op) => op.Kind switch
    {
        OperationKind.Conditional => "an if statement",
        OperationKind.Loop => "a loop",
        _ => "a " + op.Kind.ToString().ToLowerInvariant() + " statement",
    };

    static Result Fail(Result r, string construct, SyntaxNode? where)
    {
        r.Steps = null;
        r.Unsupported ??= construct;
        r.Where ??= where;
        return r;
    }
}
