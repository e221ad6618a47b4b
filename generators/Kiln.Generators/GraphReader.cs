using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Analyzers.FrontEnd;
using Kiln.Compiler.Ir;
using Kiln.Compiler.Ops.Pointwise;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
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
        /// <summary>The graph in eval mode when Forward branches on <c>Training</c> (then <see cref="Graph"/> is the training one).</summary>
        public IrGraph? EvalGraph;
        public string? Unsupported;
        public SyntaxNode? Where;
        /// <summary>Layers run by the eager engine inside the compiled model, with the call that uses each.</summary>
        public List<(string Layer, SyntaxNode Where)> Islands = new List<(string, SyntaxNode)>();
    }

    /// <summary>A layer reached by a C# expression over the model <c>m</c>, with the creation that built it when known.</summary>
    sealed record LayerRef(string Access, ITypeSymbol Type, IObjectCreationOperation? Creation);

    /// <summary>The state of reading one Forward body (the model's, or an inlined [Model] submodule's).</summary>
    sealed class Reader
    {
        public IrBuilder Graph = null!;
        public readonly Dictionary<ISymbol, int> Env = new Dictionary<ISymbol, int>(SymbolEqualityComparer.Default);
        public readonly Dictionary<ISymbol, LayerRef> Layers = new Dictionary<ISymbol, LayerRef>(SymbolEqualityComparer.Default);
        public SemanticModel Semantics = null!;
        public Result Result = null!;
        /// <summary>The module whose Forward this is, as an expression (<c>m</c>, or <c>m.block.__Kiln_inner</c> when inlined).</summary>
        public string Owner = "m";
        /// <summary>How its members are reached: directly (the model itself) or through the generated internal accessors.</summary>
        public string MemberPrefix = "";
        /// <summary>The <c>Training</c> value this read assumes (null until Forward is seen to branch on it).</summary>
        public bool? Training;
        /// <summary>Set when a branch on <c>Training</c> is met with no assumed value: the model is read once per mode.</summary>
        public bool NeedsModes;
        public int Depth;
        public CancellationToken Cancel;
    }

    public static Result Read(IMethodSymbol forward, SemanticModel semantics, CancellationToken cancel)
    {
        var result = Read(forward, semantics, null, cancel, out bool needsModes);
        if (!needsModes) return result;
        // Forward branches on Training: one graph per mode, chosen when the compiled model runs.
        var training = Read(forward, semantics, true, cancel, out _);
        if (training.Graph is null) return training;
        var eval = Read(forward, semantics, false, cancel, out _);
        if (eval.Graph is null) return eval;
        training.EvalGraph = eval.Graph;
        return training;
    }

    static Result Read(IMethodSymbol forward, SemanticModel semantics, bool? trainingMode, CancellationToken cancel, out bool needsModes)
    {
        var result = new Result();
        var r = new Reader { Graph = new IrBuilder(), Semantics = semantics, Result = result, Training = trainingMode, Cancel = cancel };
        // One input value per Forward parameter, in order (tensors without defaults: the compiled Forward takes the same arguments).
        var inputs = new int[forward.Parameters.Length];
        for (int i = 1; i < inputs.Length; i++)
            inputs[i] = r.Graph.AddInput(i, forward.Parameters[i].HasExplicitDefaultValue ? IrOps.OptionalInput
                : forward.Parameters[i].NullableAnnotation == NullableAnnotation.Annotated ? IrOps.NullableInput : null);
        int? returned = Body(forward, r, inputs);
        needsModes = r.NeedsModes;
        if (returned is null) return Fail(result, "Forward", null);
        if (!r.Graph.HasParameters && !r.Graph.HasElementwise) return Fail(result, "a Forward without a layer that has parameters or an elementwise op", forward.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancel));
        result.Graph = r.Graph.Build(returned.Value);
        return result;
    }

    /// <summary>Reads a Forward body with its tensor parameters bound to <paramref name="inputs"/>; the value it returns, or null (reason in the result).</summary>
    static int? Body(IMethodSymbol forward, Reader r, IReadOnlyList<int> inputs)
    {
        var result = r.Result;
        // Tensors; after the first, Tensor? (with or without the default null: a null argument runs the eager Forward).
        static bool Plain(IParameterSymbol p) => !p.HasExplicitDefaultValue && p.NullableAnnotation != NullableAnnotation.Annotated;
        static bool NullTensor(IParameterSymbol p) => p.Ordinal > 0 && (!p.HasExplicitDefaultValue || p.ExplicitDefaultValue is null);
        if (forward.Parameters.Length != inputs.Count || inputs.Count == 0 || !ForwardSyntax.IsTensor(forward.ReturnType)
            || forward.Parameters.Any(p => !ForwardSyntax.IsTensor(p.Type) || p.RefKind != RefKind.None || p.IsParams || !Plain(p) && !NullTensor(p)))
        { Fail(result, "a Forward whose parameters are not all tensors (after the first, Tensor? may default to null), or that does not return one", forward.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(r.Cancel)); return null; }
        if (forward.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(r.Cancel) is not MethodDeclarationSyntax method) { Fail(result, "Forward's declaration", null); return null; }
        SyntaxNode? body = (SyntaxNode?)method.Body ?? method.ExpressionBody;
        if (body is null || r.Semantics.GetOperation(body, r.Cancel) is not { } operation) { Fail(result, "Forward's body", method); return null; }
        for (int i = 0; i < inputs.Count; i++) r.Env[forward.Parameters[i]] = inputs[i];
        int? returned = null;
        if (!Statements(operation is IBlockOperation block ? block.Operations : ImmutableArrayOf(operation), r, ref returned)) return null;
        if (returned is null) Fail(result, "a Forward that does not end in one return", method);
        return returned;
    }

    static bool Statements(IEnumerable<IOperation> statements, Reader r, ref int? returned)
    {
        var result = r.Result;
        foreach (var statement in statements)
        {
            if (returned is not null) { Fail(result, "a statement after the return", statement.Syntax); return false; }
            switch (statement)
            {
                case IBlockOperation inner:
                    if (!Statements(inner.Operations, r, ref returned)) return false;
                    break;
                case IVariableDeclarationGroupOperation group:
                    foreach (var d in group.Declarations.SelectMany(x => x.Declarators))
                    {
                        if (d.Initializer is null) { Fail(result, "a local without a value", d.Syntax); return false; }
                        if (Expr(d.Initializer.Value, r) is not { } v) return false;
                        r.Env[d.Symbol] = v;
                    }
                    break;
                case IExpressionStatementOperation { Operation: ISimpleAssignmentOperation assign }
                    when assign.Target is ILocalReferenceOperation or IParameterReferenceOperation:
                {
                    if (Expr(assign.Value, r) is not { } v) return false;
                    r.Env[assign.Target is ILocalReferenceOperation l ? l.Local : ((IParameterReferenceOperation)assign.Target).Parameter] = v;
                    break;
                }
                case IReturnOperation { ReturnedValue: { } value }:
                    if ((returned = Expr(value, r)) is null) return false;
                    break;
                case IConditionalOperation branch when ForwardSyntax.TrainingTest(branch.Condition, ownOnly: true) is { } whenTraining:
                {
                    // if (Training) ...: the branch this mode takes (the model is read once per mode).
                    if (r.Training is not { } mode) { r.NeedsModes = true; Fail(result, "a branch on Training", statement.Syntax); return false; }
                    var taken = mode == whenTraining ? branch.WhenTrue : branch.WhenFalse;
                    if (taken is not null && !Statements(ImmutableArrayOf(taken), r, ref returned)) return false;
                    break;
                }
                case IForEachLoopOperation loop when loop.LoopControlVariable is IVariableDeclaratorOperation variable
                                                  && Member(loop.Collection, r) is { } list && ListItems(list) is { } items:
                {
                    // foreach over a ModuleList of known layers: the body once per layer, in order.
                    for (int i = 0; i < items.Count; i++)
                    {
                        r.Layers[variable.Symbol] = items[i];
                        if (!Statements(ImmutableArrayOf(loop.Body), r, ref returned)) return false;
                        if (returned is not null) { Fail(result, "a return inside a loop", loop.Syntax); return false; }
                    }
                    r.Layers.Remove(variable.Symbol);
                    break;
                }
                default:
                    Fail(result, ForwardSyntax.Describe(statement), statement.Syntax);
                    return false;
            }
        }
        return true;
    }

    static IEnumerable<IOperation> ImmutableArrayOf(IOperation op) => new[] { op };

    /// <summary>What a tentative read may change, to undo it when the read falls back to another form.</summary>
    static ((int, int) Graph, int Islands, string? Unsupported, SyntaxNode? Where) Save(Reader r) =>
        (r.Graph.Mark(), r.Result.Islands.Count, r.Result.Unsupported, r.Result.Where);

    static void Restore(Reader r, ((int, int) Graph, int Islands, string? Unsupported, SyntaxNode? Where) s)
    {
        r.Graph.Rollback(s.Graph);
        r.Result.Islands.RemoveRange(s.Islands, r.Result.Islands.Count - s.Islands);
        (r.Result.Unsupported, r.Result.Where) = (s.Unsupported, s.Where);
    }

    /// <summary>
    /// <c>attn.Forward(x, x, x, ...).Output</c> on a MultiheadAttention layer: self-attention (query, key and value one
    /// value, no masks, not causal) — the attention weights, if asked for, are not used.
    /// </summary>
    static int? SelfAttention(IInvocationOperation call, Reader r)
    {
        if (call.TargetMethod.Name != "Forward" || call.TargetMethod.ContainingType?.Name != "MultiheadAttention" || Member(call.Instance, r) is not { } layer) return null;
        int? shared = null;
        foreach (var a in call.Arguments)
        {
            string name = a.Parameter?.Name ?? "";
            if (name is "query" or "key" or "value")
            {
                var saved = Save(r);
                if (Expr(a.Value, r) is not { } v || shared is { } s0 && s0 != v) { Restore(r, saved); return null; }
                shared = v;
            }
            else if (a.ArgumentKind != ArgumentKind.DefaultValue && !(name == "needWeights" && a.Value.ConstantValue.HasValue)
                     && !(name is "keyPaddingMask" or "attnMask" && a.Value.ConstantValue is { HasValue: true, Value: null })
                     && !(name == "isCausal" && a.Value.ConstantValue.Value is false)
                     && !(name == "averageAttnWeights" && a.Value.ConstantValue.HasValue))
                return null;
        }
        return shared is { } x ? r.Graph.Add(IrOps.SelfAttention, x, layer.Access) : null;
    }

    /// <summary>
    /// A Tensor method or a static Tensor/F function without a fused form, as an expression island: its tensor operands
    /// are graph values, every other argument a constant of the build (written back as a literal of its parameter's type).
    /// </summary>
    static int? ExpressionIsland(IInvocationOperation call, Reader r)
    {
        var m = call.TargetMethod;
        string type = m.ContainingType?.Name ?? "", ns = m.ContainingType?.ContainingNamespace?.ToDisplayString() ?? "";
        // A layer of the model called with more than its input (layer.Forward(x, mask)): its parameters come along.
        var layer = !m.IsStatic && ForwardSyntax.IsModule(call.Instance?.Type) ? Member(call.Instance, r) : null;
        if (!ForwardSyntax.IsTensor(m.ReturnType) || layer is null && !(ns == "Kiln" && type == "Tensor" || ns == "Kiln.NN" && type == "F")) return null;
        var saved = Save(r);
        var values = new List<int>();
        string? Operand(IOperation o)
        {
            while (o is IConversionOperation c && !ForwardSyntax.IsTensor(o.Type)) o = c.Operand;
            if (o.ConstantValue is { HasValue: true, Value: null }) return "null";   // an absent optional tensor (a mask)
            if (ForwardSyntax.IsTensor(o.Type))
            {
                if (Expr(o, r) is not { } v) return null;
                values.Add(v);
                return IrOps.Placeholder(values.Count - 1);
            }
            return Literal(o);
        }
        string? receiver = layer?.Access;
        if (!m.IsStatic && receiver is null && (call.Instance is null || (receiver = Operand(call.Instance)) is null)) { Restore(r, saved); return null; }
        var parts = new List<string>();
        foreach (var a in call.Arguments)
        {
            if (a.ArgumentKind == ArgumentKind.DefaultValue || a.Parameter is null) continue;
            string? text;
            if (a.ArgumentKind == ArgumentKind.ParamArray && a.Value is IArrayCreationOperation { Initializer: { } init, Type: IArrayTypeSymbol array })
                text = ArrayText(array, init.ElementValues.Select(Operand).ToList());
            else text = Operand(a.Value);
            if (text is null) { Restore(r, saved); return null; }
            parts.Add("@" + a.Parameter.Name + ": " + text);
        }
        string target = m.IsStatic ? m.ContainingType!.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + "." + m.Name : receiver + "." + m.Name;
        string shown = layer is null ? type + "." + m.Name : $"{type} ({Display(layer)})";
        r.Result.Islands.Add((shown, call.Syntax));
        return r.Graph.Add(IrOps.Island, values, layer?.Access, attr: m.Name, attr2: $"{target}({string.Join(", ", parts)})");
    }

    /// <summary>An array of <paramref name="type"/> with the given element texts, or null when one of them is not known.</summary>
    static string? ArrayText(IArrayTypeSymbol type, List<string?> items) => items.Any(i => i is null) ? null
        : $"new {type.ElementType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)}[] {{ {string.Join(", ", items)} }}";

    /// <summary>A constant as C# text of its type (numbers cast to it, enums by their type), or null when it is not a constant.</summary>
    static string? Literal(IOperation o)
    {
        var target = o.Type;
        while (o is IConversionOperation c) o = c.Operand;
        if (o is IArrayCreationOperation { Initializer: { } init, Type: IArrayTypeSymbol at }) return ArrayText(at, init.ElementValues.Select(Literal).ToList());
        if (o is ICollectionExpressionOperation { Type: IArrayTypeSymbol ct } collection) return ArrayText(ct, collection.Elements.Select(Literal).ToList());
        if (!o.ConstantValue.HasValue) return null;
        var value = o.ConstantValue.Value;
        if (value is null) return target is null ? "null" : $"default({target.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)})";
        string text = value switch
        {
            string str => SymbolDisplay.FormatLiteral(str, quote: true),
            bool b => b ? "true" : "false",
            char ch => SymbolDisplay.FormatLiteral(ch, quote: true),
            double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            float f => ((double)f).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            _ => System.Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
        };
        if (text.Contains("Infinity") || text == "NaN") text = "double." + (text == "NaN" ? "NaN" : text.StartsWith("-") ? "NegativeInfinity" : "PositiveInfinity");
        return target is null || value is string || value is bool ? text : $"(({target.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)})({text}))";
    }

    static string Display(LayerRef layer) => layer.Access.Substring(layer.Access.LastIndexOf('.') + 1).TrimEnd(')').Replace(GeneratedAccessor.Prefix, "");

    /// <summary>The layers a ModuleList was created with (an array or collection of <c>new</c> expressions), reached through its indexer.</summary>
    static List<LayerRef>? ListItems(LayerRef list)
    {
        if (list.Type is not INamedTypeSymbol { Name: "ModuleList" } || list.Creation is null) return null;
        var items = new List<LayerRef>();
        foreach (var a in list.Creation.Arguments)
        {
            var value = a.Value;
            while (value is IConversionOperation c) value = c.Operand;
            var elements = value switch
            {
                IArrayCreationOperation { Initializer: { } init } => init.ElementValues,
                ICollectionExpressionOperation ce => ce.Elements,
                _ => default(System.Collections.Immutable.ImmutableArray<IOperation>?),
            };
            if (elements is null) return null;
            foreach (var e in elements.Value)
            {
                var item = e;
                while (item is IConversionOperation c) item = c.Operand;
                if (item is not IObjectCreationOperation { Type: { } itemType } create) return null;
                items.Add(new LayerRef($"(({itemType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)}){list.Access}[{items.Count}])", itemType, create));
            }
        }
        return items;
    }

    static int? Expr(IOperation op, Reader r)
    {
        while (op is IConversionOperation c) op = c.Operand;
        var result = r.Result;
        switch (op)
        {
            case IParameterReferenceOperation p when r.Env.TryGetValue(p.Parameter, out var pv): return pv;
            case ILocalReferenceOperation l when r.Env.TryGetValue(l.Local, out var lv): return lv;
            case IConditionalOperation choice when ForwardSyntax.TrainingTest(choice.Condition, ownOnly: true) is { } whenTraining && choice.WhenFalse is not null:
                // Training ? a : b — the operand this mode takes.
                if (r.Training is not { } mode) { r.NeedsModes = true; Fail(result, "a branch on Training", op.Syntax); return null; }
                return Expr(mode == whenTraining ? choice.WhenTrue : choice.WhenFalse, r);
            case IBinaryOperation binary when BinaryName(binary.OperatorKind) is { } name && (ForwardSyntax.IsTensor(binary.LeftOperand.Type) || ForwardSyntax.IsTensor(binary.RightOperand.Type)):
            {
                bool leftTensor = ForwardSyntax.IsTensor(binary.LeftOperand.Type), rightTensor = ForwardSyntax.IsTensor(binary.RightOperand.Type);
                if (leftTensor && rightTensor)
                {
                    // Two values, broadcast together when the compiled model runs (a learned scale, a positional table, a
                    // per-row gate); + is the residual connection.
                    if (Expr(binary.LeftOperand, r) is not { } left || Expr(binary.RightOperand, r) is not { } right) return null;
                    return name == "add" ? r.Graph.Add(IrOps.Add, new[] { left, right }) : r.Graph.Add(IrOps.Binary, new[] { left, right }, attr: name);
                }
                // A value and a number: the number is a constant of the build.
                var number = leftTensor ? binary.RightOperand : binary.LeftOperand;
                if (Number(number) is not { } constant) { Fail(result, "the expression '" + op.Syntax + "' (a tensor with a non-constant number)", op.Syntax); return null; }
                if (Expr(leftTensor ? binary.LeftOperand : binary.RightOperand, r) is not { } value) return null;
                string attr = !leftTensor && name is "sub" or "div" ? "r" + name : name;
                return r.Graph.Add(IrOps.Binary, new[] { value }, attr: attr, attr2: constant);
            }
            case IFieldReferenceOperation { Field.Name: "Output", Instance: IInvocationOperation attention } when SelfAttention(attention, r) is { } attended:
                return attended;
            case IMemberReferenceOperation { Instance: IInstanceReferenceOperation } tensorMember and (IFieldReferenceOperation or IPropertyReferenceOperation)
                when ForwardSyntax.IsTensor(tensorMember.Type) && Member(tensorMember, r) is { } held:
            {
                // A tensor of the model (a Parameter or buffer): the value is the tensor itself, its gradient goes to it.
                string shown = Display(held);
                return r.Graph.Add(IrOps.Island, System.Array.Empty<int>(), attr: "tensor " + shown, attr2: held.Access, parameters: new[] { held.Access });
            }
            case IPropertyReferenceOperation { Instance: { } of } property when ForwardSyntax.IsTensor(property.Type) && ForwardSyntax.IsTensor(of.Type):
            {
                // x.T, x.mT: a view, run eagerly inside the compiled model.
                if (Expr(of, r) is not { } value) return null;
                r.Result.Islands.Add(("Tensor." + property.Property.Name, op.Syntax));
                return r.Graph.Add(IrOps.Island, new[] { value }, attr: "Tensor." + property.Property.Name, attr2: IrOps.Placeholder(0) + "." + property.Property.Name);
            }
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus } negate when ForwardSyntax.IsTensor(negate.Operand.Type):
                return Expr(negate.Operand, r) is { } negated ? r.Graph.Add(IrOps.Activation, negated, attr: "neg") : null;
            case IInvocationOperation call:
            {
                var m = call.TargetMethod;
                string type = m.ContainingType?.Name ?? "", ns = m.ContainingType?.ContainingNamespace?.ToDisplayString() ?? "";
                // layer.Forward(x) / layer.Call(x) on a field or property of the model.
                if ((m.Name == "Forward" || m.Name == "Call") && call.Arguments.Length == 1 && Member(call.Instance, r) is { } member)
                {
                    if (Expr(call.Arguments[0].Value, r) is not { } before) return null;
                    var saved = Save(r);
                    var after = Layer(r, member.Access, member.Type, member.Creation, before);
                    if (after is not null) return after;
                    // No fused form (or a block that does not read as a graph): the layer runs eagerly inside the compiled model.
                    Restore(r, saved);
                    if (!ForwardSyntax.IsModule(member.Type) || !ForwardSyntax.IsTensor(m.ReturnType) || m.Parameters.Length != 1 || !ForwardSyntax.IsTensor(m.Parameters[0].Type))
                    { Fail(result, $"the layer {member.Type.Name} ({Display(member)})", call.Syntax); return null; }
                    result.Islands.Add(($"{member.Type.Name} ({Display(member)})", call.Syntax));
                    return r.Graph.Add(IrOps.Island, before, member.Access, attr: m.Name);
                }
                // F.Relu(x), F.Dropout(x, 0.2, Training), ...
                if (ns == "Kiln.NN" && type == "F" && call.Arguments.Length >= 1)
                {
                    var saved = Save(r);
                    if (Expr(call.Arguments[0].Value, r) is not { } before) return null;
                    if (Functional(r, m.Name, call, before) is { } after) return after;
                    Restore(r, saved);
                    if (ExpressionIsland(call, r) is { } island) return island;
                    Fail(result, "F." + m.Name + (m.Name == "Dropout" ? " with a non-constant probability or a training flag other than Training" : ""), call.Syntax);
                    return null;
                }
                // x.Flatten(1): to the last dim only.
                if (ns == "Kiln" && type == "Tensor" && m.Name == "Flatten" && call.Instance is not null
                    && call.Arguments.Length == 2 && call.Arguments[0].Value.ConstantValue.Value is int startDim
                    && call.Arguments[1].Value.ConstantValue.Value is -1)
                {
                    if (Expr(call.Instance, r) is not { } before) return null;
                    return r.Graph.Add(IrOps.Flatten, before, attr: startDim.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                // x.Softmax(dim), x.LogSoftmax(dim) with a constant dim.
                if (ns == "Kiln" && type == "Tensor" && call.Instance is not null && m.Name is "Softmax" or "LogSoftmax"
                    && call.Arguments.Length == 1 && call.Arguments[0].Value.ConstantValue.Value is int softmaxDim)
                {
                    if (Expr(call.Instance, r) is not { } before) return null;
                    return Softmax(r.Graph, m.Name, before, softmaxDim);
                }
                // x.Relu(), x.Tanh(), ...
                if (ns == "Kiln" && type == "Tensor" && call.Instance is not null && call.Arguments.All(a => a.ArgumentKind == ArgumentKind.DefaultValue)
                    && Activation(m.Name) is { } act)
                {
                    if (Expr(call.Instance, r) is not { } before) return null;
                    return r.Graph.Add(IrOps.Activation, before, attr: act);
                }
                // Any other Tensor method or Tensor/F function over values and constants: run eagerly inside the compiled model.
                if (ExpressionIsland(call, r) is { } expression) return expression;
                if (result.Unsupported is null) Fail(result, $"the call to {type}.{m.Name}", call.Syntax);
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
        if (type.ContainingNamespace?.ToDisplayString() != "Kiln.NN") return Submodule(r, access, type, x);
        switch (type.Name)
        {
            case "Linear": return g.Add(IrOps.Linear, x, access);
            case "Conv2d": return g.Add(IrOps.Conv2d, x, access);
            case "MaxPool2d": return g.Add(IrOps.MaxPool2d, x, access);
            case "LayerNorm": return g.Add(IrOps.LayerNorm, x, access);
            case "RMSNorm": return g.Add(IrOps.RmsNorm, x, access);
            case "BatchNorm1d":
            case "BatchNorm2d": return g.Add(IrOps.BatchNorm, x, access);
            case "Embedding": return g.Add(IrOps.Embedding, x, access);
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
            case var module when UnaryOps.FindModule(module) is { } unary: return g.Add(IrOps.Activation, x, attr: unary.Name);
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

    /// <summary>
    /// A [Model] submodule's Forward, read into this graph (its layers reached through the accessors the generator gives
    /// every [Model] class), so blocks written as their own classes fuse with the model around them.
    /// </summary>
    static int? Submodule(Reader r, string access, ITypeSymbol type, int x)
    {
        // Only top-level partial [Model] classes get the generated accessors.
        if (r.Depth > 8 || type is not INamedTypeSymbol { ContainingType: null } named || !named.GetAttributes().Any(a => a.AttributeClass?.Name == "ModelAttribute")
            || !named.DeclaringSyntaxReferences.Any(d => d.GetSyntax(r.Cancel) is ClassDeclarationSyntax c && c.Modifiers.Any(m => m.Text == "partial")))
            return null;
        var forward = named.GetMembers("Forward").OfType<IMethodSymbol>().FirstOrDefault(f => f.Parameters.Length == 1 && ForwardSyntax.IsTensor(f.Parameters[0].Type) && !f.IsStatic);
        var tree = forward?.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree;
        if (forward is null || tree is null || !r.Semantics.Compilation.ContainsSyntaxTree(tree)) return null;
        var inner = new Reader
        {
            Graph = r.Graph,
            Semantics = tree == r.Semantics.SyntaxTree ? r.Semantics : r.Semantics.Compilation.GetSemanticModel(tree),
            Result = r.Result,
            Owner = access,
            MemberPrefix = access + "." + GeneratedAccessor.Prefix,
            Training = r.Training,
            Depth = r.Depth + 1,
            Cancel = r.Cancel,
        };
        var value = Body(forward, inner, new[] { x });
        r.NeedsModes |= inner.NeedsModes;
        return value;
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

    /// <summary>The object creation that builds a member: its initializer, or an assignment in a constructor of its class.</summary>
    static IObjectCreationOperation? Creation(ISymbol member, SemanticModel semantics)
    {
        foreach (var ctor in (member.ContainingType?.Constructors).GetValueOrDefault())
            foreach (var reference in ctor.DeclaringSyntaxReferences)
            {
                if (reference.SyntaxTree != semantics.SyntaxTree) continue;
                foreach (var node in reference.GetSyntax().DescendantNodes().OfType<AssignmentExpressionSyntax>())
                    if (semantics.GetOperation(node) is ISimpleAssignmentOperation { Target: IMemberReferenceOperation target } assign
                        && SymbolEqualityComparer.Default.Equals(target.Member, member))
                    {
                        var value = assign.Value;
                        while (value is IConversionOperation c) value = c.Operand;
                        if (value is IObjectCreationOperation create) return create;
                    }
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
            string flag = training is IPropertyReferenceOperation ? r.Owner + ".Training" : "true";
            return g.Add(IrOps.Dropout, x, attr: pv.ToString("R", System.Globalization.CultureInfo.InvariantCulture), attr2: flag);
        }
        if (name is "Softmax" or "LogSoftmax")
            return call.Arguments.Length == 2 && call.Arguments[1].Value.ConstantValue.Value is int dim ? Softmax(g, name, x, dim) : null;
        if (name is "CrossEntropy" or "NllLoss")
        {
            // The default form only: mean over class-index targets, no class weights or smoothing, ignore index -100.
            if (call.Arguments.Length < 2 || call.Arguments.Skip(2).Any(a => a.ArgumentKind != ArgumentKind.DefaultValue)) return null;
            int logits = x;
            if (name == "NllLoss")
            {
                // NLL of a log-softmax over the class dim: one fused kernel from the logits; the log-probabilities are never kept.
                var node = g.Node(x);
                var mark = g.Mark();
                if (node.Op != IrOps.Softmax || node.Attr != "log_softmax" || node.Attr2 != "1" || mark.Nodes - 1 != x) return null;
                logits = node.Inputs[0];
                g.Rollback((x, mark.Conditions));
            }
            if (Expr(call.Arguments[1].Value, r) is not { } target) return null;
            return g.Add(IrOps.CrossEntropy, new[] { logits, target });
        }
        return Activation(name) is { } act && call.Arguments.Length == 1 ? g.Add(IrOps.Activation, x, attr: act) : null;
    }

    static int Softmax(IrBuilder g, string method, int x, int dim) =>
        g.Add(IrOps.Softmax, x, attr: method == "Softmax" ? "softmax" : "log_softmax", attr2: dim.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The op table's one-input op behind Tensor method or F function <paramref name="method"/> (gelu is read with its mode elsewhere).</summary>
    static string? Activation(string method) => UnaryOps.FindMethod(method) is { TensorMethod: true } unary ? unary.Name : null;

    static string? BinaryName(BinaryOperatorKind kind) => kind switch
    {
        BinaryOperatorKind.Add => "add",
        BinaryOperatorKind.Subtract => "sub",
        BinaryOperatorKind.Multiply => "mul",
        BinaryOperatorKind.Divide => "div",
        _ => null,
    };

    /// <summary>A compile-time number as an invariant literal.</summary>
    static string? Number(IOperation op) => op.ConstantValue.HasValue ? op.ConstantValue.Value switch
    {
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        float f => ((double)f).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        int i => i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    } : null;

    /// <summary>The layer an expression names: a field or property of the module, or a loop variable over a ModuleList.</summary>
    static LayerRef? Member(IOperation? instance, Reader r)
    {
        while (instance is IConversionOperation c) instance = c.Operand;
        (ISymbol Symbol, string Name, ITypeSymbol Type)? member = instance switch
        {
            IFieldReferenceOperation { Instance: IInstanceReferenceOperation } f => (f.Field, f.Field.Name, f.Field.Type),
            IPropertyReferenceOperation { Instance: IInstanceReferenceOperation } p => (p.Property, p.Property.Name, p.Property.Type),
            _ => null,
        };
        if (instance is ILocalReferenceOperation local) return r.Layers.TryGetValue(local.Local, out var bound) ? bound : null;
        if (member is not { } mb) return null;
        // An inlined block's layers are reached through its generated accessors, which exist for field types code outside it can name.
        if (r.MemberPrefix.Length > 0 && !(GeneratedAccessor.CanExpose(mb.Type) && (mb.Symbol is IFieldSymbol { IsStatic: false, IsConst: false }
            || mb.Symbol is IPropertySymbol { IsStatic: false } prop && prop.ContainingType.GetMembers().OfType<IFieldSymbol>().Any(f => SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, prop)))))
            return null;
        var semantics = mb.Symbol.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree is { } tree && tree != r.Semantics.SyntaxTree && r.Semantics.Compilation.ContainsSyntaxTree(tree)
            ? r.Semantics.Compilation.GetSemanticModel(tree) : r.Semantics;
        string access = r.MemberPrefix.Length == 0 ? r.Owner + "." + mb.Name : r.MemberPrefix + mb.Name;
        return new LayerRef(access, mb.Type, Creation(mb.Symbol, semantics));
    }

    static Result Fail(Result r, string construct, SyntaxNode? where)
    {
        r.Graph = null;
        r.Unsupported ??= construct;
        r.Where ??= where;
        return r;
    }
}
