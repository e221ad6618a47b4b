using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Kiln.Compiler;
using Kiln.Compiler.Ops.Pointwise;
using Kiln.Compiler.Shapes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using Sym = Kiln.Compiler.Shapes.ShapeRules<Kiln.Compiler.Shapes.SymbolicDim, Kiln.Compiler.Shapes.SymbolicDim, Kiln.Compiler.Shapes.SymbolicDims>;
using SymLayers = Kiln.Compiler.Shapes.LayerRules<Kiln.Compiler.Shapes.SymbolicDim, Kiln.Compiler.Shapes.SymbolicDim, Kiln.Compiler.Shapes.SymbolicDims>;

namespace Kiln.Analyzers.FrontEnd;

/// <summary>
/// A tensor's shape as far as it is known: each size a <see cref="SymbolicDim"/> (a number, a name such as N, an
/// expression such as 784·N, or an unknown ?1). <see cref="Open"/>: there may be further leading dims of unknown number (a Forward parameter without
/// [Shape] is an open shape with no dims; a Linear applied to it gives an open shape ending in out_features).
/// </summary>
internal sealed class TensorShape(SymbolicDim[] dims, bool open = false)
{
    public SymbolicDim[] Dims { get; } = dims;
    public bool Open { get; } = open;
}

/// <summary>A layer result with named parts (LSTM's Output, MultiheadAttention's Output and Weights).</summary>
internal sealed class TensorTuple(Dictionary<string, TensorShape?> items)
{
    public Dictionary<string, TensorShape?> Items { get; } = items;
}

/// <summary>
/// Follows a <c>Forward</c> body through the operation tree, giving every tensor expression a shape from the
/// parameters' [Shape] and the layers' constructor arguments, and checking each step with Kiln.Compiler's rules read
/// on symbolic sizes (the layer rules and the tensor ops' shape rules the runtime reads on numbers). A rule's exception becomes a diagnostic at the expression;
/// anything outside the followed subset stops the walk with one info diagnostic, so no error is guessed.
/// </summary>
internal sealed partial class ShapeInterpreter
{
    readonly Dictionary<IFieldSymbol, LayerSpec> _layers;
    readonly Action<Diagnostic> _report;
    readonly Dictionary<ISymbol, object?> _env = new(SymbolEqualityComparer.Default);
    bool _stopped;

    public ShapeInterpreter(Dictionary<IFieldSymbol, LayerSpec> layers, Action<Diagnostic> report)
    {
        _layers = layers;
        _report = report;
    }

    /// <summary>Walks one Forward method whose parameters carry [Shape].</summary>
    public void Run(IMethodSymbol method, IOperation body)
    {
        foreach (var p in method.Parameters)
            _env[p] = ShapeOf(p.GetAttributes()) is { } s ? new TensorShape(s) : ForwardSyntax.IsTensor(p.Type) ? new TensorShape(Array.Empty<SymbolicDim>(), open: true) : null;
        Statement(body);
    }

    /// <summary>The dims of a [Shape("N C H W")] attribute, names as symbolic sizes; null without one.</summary>
    public static SymbolicDim[]? ShapeOf(ImmutableArray<AttributeData> attributes)
    {
        foreach (var a in attributes)
        {
            if (a.AttributeClass?.Name != "ShapeAttribute" || a.ConstructorArguments.Length != 1 || a.ConstructorArguments[0].Value is not string text)
                continue;
            var tokens = text.Split(new[] { ' ', ',' }, StringSplitOptions.RemoveEmptyEntries);
            return tokens.Select(t => int.TryParse(t, out int v) ? SymbolicDim.Constant(v) : SymbolicDim.Symbol(t)).ToArray();
        }
        return null;
    }

    void Statement(IOperation op)
    {
        if (_stopped) return;
        switch (op)
        {
            case IBlockOperation block:
                foreach (var s in block.Operations) Statement(s);
                break;
            case IVariableDeclarationGroupOperation group:
                foreach (var decl in group.Declarations)
                    foreach (var d in decl.Declarators)
                    {
                        var init = d.Initializer ?? decl.Initializer;
                        _env[d.Symbol] = init is null ? null : Eval(init.Value);
                    }
                break;
            case IExpressionStatementOperation e:
                Eval(e.Operation);
                break;
            case IReturnOperation r:
                if (r.ReturnedValue is not null) Eval(r.ReturnedValue);
                break;
            case IConditionalOperation c when IsTrainingTest(c.Condition):
                // if (Training) ... else ...: both branches are followed; a local they leave with different shapes becomes unknown.
                Branches(() => Statement(c.WhenTrue), () => { if (c.WhenFalse is not null) Statement(c.WhenFalse); });
                break;
            case IForEachLoopOperation loop when loop.Collection.UnwrapConversions() is IFieldReferenceOperation f
                                               && _layers.TryGetValue(f.Field, out var list) && list.Items is { } items
                                               && loop.LoopControlVariable is IVariableDeclaratorOperation v:
                // foreach over a ModuleList of known length: the body once per layer, in order.
                foreach (var item in items)
                {
                    _env[v.Symbol] = item;
                    Statement(loop.Body);
                }
                break;
            default:
                Stop(op, ForwardSyntax.Describe(op));
                break;
        }
    }

    object? Eval(IOperation op)
    {
        if (_stopped) return null;
        switch (op)
        {
            case IConversionOperation c: return Eval(c.Operand);
            case IParenthesizedOperation p: return Eval(p.Operand);
            case ILocalReferenceOperation l: return _env.TryGetValue(l.Local, out var lv) ? lv : null;
            case IParameterReferenceOperation p: return _env.TryGetValue(p.Parameter, out var pv) ? pv : null;
            case ISimpleAssignmentOperation a:
            {
                var v = Eval(a.Value);
                if (a.Target is ILocalReferenceOperation tl) _env[tl.Local] = v;
                else if (a.Target is IParameterReferenceOperation tp) _env[tp.Parameter] = v;
                return v;
            }
            case IInvocationOperation call: return Invocation(call);
            case IPropertyReferenceOperation prop: return Property(prop);
            case IFieldReferenceOperation field when field.Instance is not null && Eval(field.Instance) is TensorTuple t:
                return t.Items.TryGetValue(field.Field.Name, out var item) ? item : null;
            case IBinaryOperation b: return Binary(b);
            case IConditionalOperation c when IsTrainingTest(c.Condition) && c.WhenFalse is not null:
            {
                var a = Eval(c.WhenTrue);
                var b = Eval(c.WhenFalse);
                return a is TensorShape sa && b is TensorShape sb && sa.Dims.SequenceEqual(sb.Dims) ? a : null;
            }
            case IUnaryOperation u:
            {
                var v = Eval(u.Operand);
                return u.OperatorKind == UnaryOperatorKind.Minus && v is SymbolicDim d ? d * -1 : v;
            }
            default:
                return Evaluate.Value(op);
        }
    }

    object? Invocation(IInvocationOperation call)
    {
        var m = call.TargetMethod;
        string type = m.ContainingType?.Name ?? "";
        string ns = m.ContainingType?.ContainingNamespace?.ToDisplayString() ?? "";
        // A layer held in a field: layer.Forward(x) / layer.Call(x).
        if ((m.Name == "Forward" || m.Name == "Call") && LayerOf(call.Instance) is { } layer)
            return Layer(call, layer);
        if (ns == "Kiln.NN" && type == "F") return Functional(call);
        if (ns == "Kiln" && type == "Tensor")
            return m.IsStatic ? TensorStatic(call) : TensorMethod(call);
        Stop(call, $"the call to {m.ContainingType?.Name}.{m.Name}");
        return null;
    }

    /// <summary>The layer an expression refers to: a layer field, or a loop variable over a ModuleList.</summary>
    LayerSpec? LayerOf(IOperation? instance) => instance?.UnwrapConversions() switch
    {
        IFieldReferenceOperation f => _layers.TryGetValue(f.Field, out var l) ? l : null,
        ILocalReferenceOperation local => _env.TryGetValue(local.Local, out var v) ? v as LayerSpec : null,
        _ => null,
    };

    static bool IsTrainingTest(IOperation condition) => ForwardSyntax.TrainingTest(condition, ownOnly: false) is not null;

    /// <summary>Runs two alternative branches from the same state and keeps what they agree on.</summary>
    void Branches(Action first, Action second)
    {
        var before = new Dictionary<ISymbol, object?>(_env, SymbolEqualityComparer.Default);
        first();
        var afterFirst = new Dictionary<ISymbol, object?>(_env, SymbolEqualityComparer.Default);
        _env.Clear();
        foreach (var kv in before) _env[kv.Key] = kv.Value;
        second();
        foreach (var kv in afterFirst)
        {
            _env.TryGetValue(kv.Key, out var other);
            bool same = ReferenceEquals(kv.Value, other)
                        || kv.Value is TensorShape a && other is TensorShape b && a.Dims.SequenceEqual(b.Dims);
            if (!same) _env[kv.Key] = null;
        }
    }

    object? Layer(IInvocationOperation call, LayerSpec layer)
    {
        var inputs = call.Arguments.Select(a => Eval(a.Value) as TensorShape).ToArray();
        if (inputs.Length == 0 || inputs[0] is not { } x) return null;
        if (layer.Kind == "Sequential")
        {
            // Each item in turn, each checked at this call.
            if (layer.Items is null) return null;
            object? current = x;
            foreach (var item in layer.Items)
            {
                if (current is not TensorShape shape) return null;
                current = Stage(call, item, shape);
            }
            return current;
        }
        return Stage(call, layer, x);
    }

    object? Stage(IInvocationOperation call, LayerSpec layer, TensorShape x)
    {
        if (x.Open || HasUnknown(x.Dims)) return PartialStage(call, layer, x);
        return StageKnown(call, layer, x);
    }

    object? StageKnown(IInvocationOperation call, LayerSpec layer, TensorShape x)
    {
        int? I(string name) => layer.Int(name);
        SymbolicDim? S(string name) => layer.Size(name);
        // A Linear whose in_features is wrong gets a fix: the argument, and the size its input really has.
        Fix? fix = layer.Kind.EndsWith("Linear", StringComparison.Ordinal) && x.Dims.Length > 0 && layer.ArgLocations.TryGetValue("inFeatures", out var arg)
            ? new Fix(arg, x.Dims[x.Dims.Length - 1].ToString()) : null;
        return Check(call, fix, () => Recovered(layer, x), () =>
        {
            switch (layer.Kind)
            {
                case "Linear":
                case "NonDynamicallyQuantizableLinear":
                    return S("inFeatures") is { } inF && S("outFeatures") is { } outF ? Shape(SymLayers.Linear(x.Dims, inF, outF)) : null;
                case "Conv2d":
                {
                    if (S("inChannels") is not { } cin || S("outChannels") is not { } cout || I("kernelSize") is not int k) return null;
                    int groups = I("groups") ?? 1, stride = I("stride") ?? 1, pad = I("padding") ?? 0, dil = I("dilation") ?? 1;
                    if (!SymbolicDim.TryDivide(cin, SymbolicDim.Constant(Math.Max(1, groups)), out var perGroup)) return null;
                    return Shape(SymLayers.Conv2d(x.Dims, cout, perGroup, new ConvGeometry("conv2d", k, k, dil, dil, pad, pad, stride, stride), groups));
                }
                case "MaxPool2d":
                case "AvgPool2d":
                {
                    if (I("kernelSize") is not int k2) return null;
                    int s = I("stride") ?? k2, p = I("padding") ?? 0, d = layer.Kind == "MaxPool2d" ? I("dilation") ?? 1 : 1;
                    string op = layer.Kind == "MaxPool2d" ? "max_pool2d" : "avg_pool2d";
                    return Shape(SymLayers.Pool2d(op, x.Dims, new ConvGeometry(op, k2, k2, d, d, p, p, s, s), layer.Bool("ceilMode", false)));
                }
                case "BatchNorm1d":
                    return S("numFeatures") is { } nf1 ? Shape(SymLayers.Channels("BatchNorm1d", x.Dims, nf1, new[] { 2, 3 })) : null;
                case "BatchNorm2d":
                    return S("numFeatures") is { } nf2 ? Shape(SymLayers.Channels("BatchNorm2d", x.Dims, nf2, new[] { 4 })) : null;
                case "LayerNorm":
                    return S("normalizedShape") is { } ln ? Shape(SymLayers.TrailingDims("layer_norm", x.Dims, new[] { ln })) : null;
                case "RMSNorm":
                    return S("normalizedShape") is { } rn ? Shape(SymLayers.TrailingDims("rms_norm", x.Dims, new[] { rn })) : null;
                case "Embedding":
                    return S("embeddingDim") is { } dim ? Shape(SymLayers.Embedding(x.Dims, dim)) : null;
                case "LSTM":
                case "GRU":
                {
                    if (S("inputSize") is not { } inSize || S("hiddenSize") is not { } hidden) return null;
                    var h = S("projSize") is { } ps && !(ps.TryConstant(out long pv) && pv <= 0) ? ps : hidden;
                    var width = layer.Bool("bidirectional", false) ? h * 2 : h;
                    var y = Shape(SymLayers.Recurrent(layer.Kind, x.Dims, inSize, width));
                    return new TensorTuple(new Dictionary<string, TensorShape?> { ["Output"] = y, ["Item1"] = y });
                }
                case "MultiheadAttention":
                {
                    if (S("embedDim") is not { } e) return null;
                    var y = Shape(SymLayers.AttentionQuery(x.Dims, e));
                    return new TensorTuple(new Dictionary<string, TensorShape?> { ["Output"] = y, ["Item1"] = y });
                }
                case "TransformerEncoderLayer":
                case "TransformerDecoderLayer":
                    return S("dModel") is { } dm ? Shape(SymLayers.AttentionQuery(x.Dims, dm)) : null;
                case "Flatten":
                    return Shape(Sym.Flatten(x.Dims, I("startDim") ?? 1, I("endDim") ?? -1));
                case var kind when KeepsShape(kind):
                    return x;
                default:
                    Stop(call, $"the layer type {layer.Kind}");
                    return null;
            }
        });
    }

    /// <summary>Layers whose output has their input's shape: the activations (the op table's modules among them), dropout, softmax.</summary>
    static bool KeepsShape(string kind) =>
        kind is "Dropout" or "GELU" or "Identity" or "LeakyReLU" or "ELU" or "Softplus" or "Softmax" or "LogSoftmax" || UnaryOps.FindModule(kind) is not null;

    object? Functional(IInvocationOperation call)
    {
        var name = call.TargetMethod.Name;
        var args = call.Arguments.ToDictionary(a => a.Parameter?.Name ?? "", a => a);
        TensorShape? Arg(int i) => i < call.Arguments.Length ? Eval(call.Arguments[i].Value) as TensorShape : null;
        switch (name)
        {
            case "Gelu":
            case "Dropout":
            case "LeakyRelu":
            case "Elu":
            case "Softplus":
            case "Softmax":
            case "LogSoftmax":
            case var _ when UnaryOps.FindMethod(name) is { Functional: true }:
                return Arg(0);
            case "CrossEntropy":
            case "NllLoss":
            {
                if (Arg(0) is not { Open: false } input || Arg(1) is not { Open: false } target) return null;
                string op = name == "CrossEntropy" ? "cross_entropy" : "nll_loss";
                // Class-probability targets (the input's shape) are the other form cross_entropy accepts.
                if (name == "CrossEntropy" && Sym.SameShape(input.Dims, target.Dims)) return Scalar();
                return Check(call, () => { SymLayers.ClassTarget(op, input.Dims, target.Dims); return Scalar(); });
            }
            case "MseLoss":
            case "L1Loss":
            case "SmoothL1Loss":
            case "HuberLoss":
            case "BinaryCrossEntropy":
            case "BinaryCrossEntropyWithLogits":
            {
                if (Arg(0) is not { Open: false } input || Arg(1) is not { Open: false } target) return null;
                string op = name switch
                {
                    "MseLoss" => "mse_loss",
                    "L1Loss" => "l1_loss",
                    "SmoothL1Loss" => "smooth_l1_loss",
                    "HuberLoss" => "huber_loss",
                    "BinaryCrossEntropy" => "binary_cross_entropy",
                    _ => "binary_cross_entropy_with_logits",
                };
                return Check(call, () => { SymLayers.SameSize(op, input.Dims, target.Dims); return Scalar(); });
            }
            default:
                Stop(call, $"F.{name}");
                return null;
        }
    }

    object? TensorMethod(IInvocationOperation call)
    {
        if (Eval(call.Instance!) is not TensorShape x) return null;
        var m = call.TargetMethod.Name;
        object? A(int i) => i < call.Arguments.Length ? Eval(call.Arguments[i].Value) : null;
        int? IntArg(int i) => Evaluate.AsInt(A(i));
        switch (m)
        {
            case "Gelu":
            case "Contiguous":
            case "Clone":
            case "Detach":
            case "Softmax":
            case "LogSoftmax":
            case "Pow":
            case "Clamp":
            case "To":
            case var _ when UnaryOps.FindMethod(m) is { TensorMethod: true }:
                return x;
            case var _ when x.Open:
                return null; // an open shape is followed through layers and elementwise functions only
            case "Flatten":
                if (x.Open) return null;
                return Check(call, () => Shape(Sym.Flatten(x.Dims, IntArg(0) ?? 0, IntArg(1) ?? -1)));
            case "Size":
                // h.Size(0) in h.View(h.Size(0), -1): the dim's size (symbolic or unknown as the shape has it).
                if (x.Open || IntArg(0) is not int sd || sd < -x.Dims.Length || sd >= x.Dims.Length) return null;
                return x.Dims[sd < 0 ? sd + x.Dims.Length : sd];
            case "View":
            case "Reshape":
            {
                var sizes = Sizes(call);
                if (sizes is null) return null;
                string op = m == "View" ? "view" : "reshape";
                return Rule(call, new[] { x.Dims, sizes }, () => Sym.Reshape(op, x.Dims, sizes));
            }
            case "Matmul":
                return A(0) is TensorShape b ? Rule(call, new[] { x.Dims, b.Dims }, () => Sym.Matmul(x.Dims, b.Dims)) : null;
            case "Transpose":
                return IntArg(0) is int d0 && IntArg(1) is int d1 ? Rule(call, new[] { x.Dims }, () => Sym.Transpose(x.Dims, d0, d1)) : null;
            case "Permute":
                return Sizes(call) is { } perm && Evaluate.AsInts(perm) is { } order ? Rule(call, new[] { x.Dims }, () => Sym.Permute(x.Dims, order)) : null;
            case "Unsqueeze":
                return IntArg(0) is int du ? Rule(call, new[] { x.Dims }, () => Sym.Unsqueeze(x.Dims, du)) : null;
            case "Add":
            case "Sub":
            case "Mul":
            case "Div":
                return A(0) is TensorShape o ? Rule(call, new[] { x.Dims, o.Dims }, () => Sym.Broadcast(m.ToLowerInvariant(), x.Dims, o.Dims)) : x;
            case "Sum":
            case "Mean":
                if (call.Arguments.Length == 0 || call.Arguments.All(a => a.ArgumentKind == ArgumentKind.DefaultValue)) return Scalar();
                return null;
            default:
                Stop(call, $"Tensor.{m}");
                return null;
        }
    }

    object? TensorStatic(IInvocationOperation call)
    {
        var m = call.TargetMethod.Name;
        if ((m == "Cat" || m == "Stack") && call.Arguments.Length >= 1)
        {
            var parts = Elements(call.Arguments[0].Value);
            if (parts is null) return null;
            var shapes = parts.Select(p => Eval(p) as TensorShape).ToArray();
            if (shapes.Any(s => s is null || s.Open)) return null;
            int dim = call.Arguments.Length > 1 ? Evaluate.AsInt(Eval(call.Arguments[1].Value)) ?? 0 : 0;
            var dims = shapes.Select(s => s!.Dims).ToArray();
            return Rule(call, dims, () => m == "Cat" ? Sym.Cat(dims, dim) : Sym.Stack(dims, dim));
        }
        Stop(call, $"Tensor.{m}");
        return null;
    }

    object? Property(IPropertyReferenceOperation prop)
    {
        if (prop.Instance is null) { Stop(prop, prop.Property.Name); return null; }
        var target = Eval(prop.Instance);
        if (target is TensorTuple t) return t.Items.TryGetValue(prop.Property.Name, out var item) ? item : null;
        if (target is TensorShape { Open: false } x && prop.Property.Name == "T")
            return Check(prop, () => Shape(x.Dims.Length < 2 ? x.Dims : Enumerable.Reverse(x.Dims).ToArray()));
        if (prop.Property.Name == "Training") return null;
        Stop(prop, $"the property {prop.Property.Name}");
        return null;
    }

    object? Binary(IBinaryOperation b)
    {
        var l = Eval(b.LeftOperand);
        var r = Eval(b.RightOperand);
        if (l is TensorShape { Open: true } || r is TensorShape { Open: true }) return null;
        if (l is TensorShape ls && r is TensorShape rs)
        {
            string op = b.OperatorKind switch
            {
                BinaryOperatorKind.Add => "add",
                BinaryOperatorKind.Subtract => "sub",
                BinaryOperatorKind.Multiply => "mul",
                BinaryOperatorKind.Divide => "div",
                _ => "",
            };
            return op.Length == 0 ? null : Rule(b, new[] { ls.Dims, rs.Dims }, () => Sym.Broadcast(op, ls.Dims, rs.Dims));
        }
        if (l is TensorShape only) return only;
        if (r is TensorShape other) return other;
        if (l is SymbolicDim li && r is SymbolicDim ri) return Evaluate.Arithmetic(b.OperatorKind, li, ri);
        return null;
    }

    SymbolicDim[]? Sizes(IInvocationOperation call)
    {
        var values = new List<SymbolicDim>();
        foreach (var a in call.Arguments)
        {
            if (a.ArgumentKind == ArgumentKind.ParamArray && a.Value is IArrayCreationOperation arr && arr.Initializer is { } init)
            {
                foreach (var e in init.ElementValues) if (Eval(e) is SymbolicDim v) values.Add(v); else return null;
            }
            else if (Eval(a.Value) is SymbolicDim v) values.Add(v);
            else if (Eval(a.Value) is SymbolicDim[] vs) values.AddRange(vs);
            else return null;
        }
        return values.ToArray();
    }

    static IEnumerable<IOperation>? Elements(IOperation op)
    {
        op = op.UnwrapConversions();
        return op switch
        {
            IArrayCreationOperation { Initializer: { } init } => init.ElementValues,
            ICollectionExpressionOperation c => c.Elements,
            _ => null,
        };
    }

    // With an unknown dim among the inputs a rule's refusal may be about that dim: say nothing rather than guess.
    object? Rule(IOperation at, SymbolicDim[][] inputs, Func<SymbolicDim[]> rule) =>
        inputs.Any(HasUnknown) ? Quietly(() => Shape(rule())) : Check(at, () => Shape(rule()));

    static TensorShape Shape(SymbolicDim[] dims) => new(dims);

    static TensorShape Scalar() => new(Array.Empty<SymbolicDim>());

    /// <summary>Where a certain repair goes and what it writes there (the code fix reads both from the diagnostic).</summary>
    internal sealed class Fix(Location argument, string replacement)
    {
        public Location Argument { get; } = argument;
        public string Replacement { get; } = replacement;
    }

    object? Check(IOperation at, Func<object?> rule) => Check(at, null, () => null, rule);

    /// <summary>
    /// Runs a rule; its KilnException becomes a diagnostic at <paramref name="at"/>, and the value is what
    /// <paramref name="recovered"/> says the step gives anyway (a Linear still yields out_features), so that later,
    /// independent errors are reported too.
    /// </summary>
    object? Check(IOperation at, Fix? fix, Func<object?> recovered, Func<object?> rule)
    {
        try { return rule(); }
        catch (KilnException e)
        {
            var descriptor = DiagnosticDescriptors.ForOp(e.Op ?? "");
            var message = e.Message;
            _report(fix is not null && descriptor == DiagnosticDescriptors.LinearInFeatures
                ? Diagnostic.Create(descriptor, at.Syntax.GetLocation(), new[] { fix.Argument },
                    ImmutableDictionary<string, string?>.Empty.Add(DiagnosticDescriptors.ReplacementProperty, fix.Replacement), message)
                : Diagnostic.Create(descriptor, at.Syntax.GetLocation(), message));
            return recovered();
        }
    }

    static object? Quietly(Func<object?> rule)
    {
        try { return rule(); }
        catch (KilnException) { return null; }
    }

    void Stop(IOperation at, string construct)
    {
        if (_stopped) return;
        _stopped = true;
        _report(Diagnostic.Create(DiagnosticDescriptors.Unsupported, at.Syntax.GetLocation(), construct));
    }
}
