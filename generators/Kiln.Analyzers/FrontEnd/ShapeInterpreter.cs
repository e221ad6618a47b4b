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
/// The shape pass over a read Forward (<see cref="ForwardIr"/>): gives every value a shape from the parameters' [Shape]
/// and the layers' constructor arguments, checking each step with Kiln.Compiler's rules read on symbolic sizes (the
/// layer rules and the tensor ops' shape rules the runtime reads on numbers). A rule's exception becomes a diagnostic at
/// the expression; anything outside what it follows stops the pass with one info diagnostic, so no error is guessed.
/// Values are computed when read (a constant argument no rule asks about is never looked at), in the reader's order.
/// </summary>
internal sealed partial class ShapeInterpreter
{
    readonly Action<Diagnostic> _report;
    ForwardIr _ir = null!;
    object?[] _values = Array.Empty<object?>();
    bool[] _done = Array.Empty<bool>();
    bool _stopped;

    public ShapeInterpreter(Action<Diagnostic> report) => _report = report;

    /// <summary>Checks one read Forward; its parameters' [Shape] give the first shapes.</summary>
    public void Run(ForwardIr ir)
    {
        _ir = ir;
        _values = new object?[ir.Nodes.Count];
        _done = new bool[ir.Nodes.Count];
        var readers = ir.Readers();
        // The values nothing else reads (statements, the returned value) pull the rest, in order.
        foreach (var node in ir.Nodes)
        {
            if (_stopped) return;
            if (readers[node.Id] == 0 || node.Id == ir.Returned) V(node.Id);
        }
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

    /// <summary>The value of node <paramref name="id"/> (a shape, a tuple of shapes, a size, a constant), computed once.</summary>
    object? V(int id)
    {
        if (_done[id]) return _values[id];
        _done[id] = true;
        if (_stopped) return null;
        return _values[id] = Eval(_ir[id]);
    }

    /// <summary>The value an operand of <paramref name="node"/> was read into (a constant it did not read: evaluated here).</summary>
    object? V(ForwardNode node, IOperation operand) => node.Operand(operand) is int id ? V(id) : Evaluate.Value(operand);

    object? Eval(ForwardNode n)
    {
        switch (n.Kind)
        {
            case ForwardKind.Input:
                return ShapeOf(n.Parameter!.GetAttributes()) is { } s ? new TensorShape(s)
                    : ForwardSyntax.IsTensor(n.Parameter!.Type) ? new TensorShape(Array.Empty<SymbolicDim>(), open: true) : null;
            case ForwardKind.Opaque:
                if (n.Operation is IPropertyReferenceOperation prop && prop.Property.Name != "Training") { Stop(prop, $"the property {prop.Property.Name}"); return null; }
                return n.Operation is null ? null : Evaluate.Value(n.Operation);
            case ForwardKind.LayerCall:
                if (n.Layer?.Spec is not { } spec) { Stop(n.Operation!, $"the call to {n.Layer?.Type.Name}.{((IInvocationOperation)n.Operation!).TargetMethod.Name}"); return null; }
                return V(n.Inputs[0]) is TensorShape x ? Layer(n.Operation!, spec, x) : null;
            case ForwardKind.Call:
                return Invocation(n);
            case ForwardKind.Binary:
                return Binary((IBinaryOperation)n.Operation!, V(n.Inputs[0]), V(n.Inputs[1]));
            case ForwardKind.Negate:
            {
                var v = V(n.Inputs[0]);
                return v is SymbolicDim d ? d * -1 : v;
            }
            case ForwardKind.Member:
                return Member(n);
            case ForwardKind.ModelTensor:
                if (n.Operation is IPropertyReferenceOperation held) Stop(held, $"the property {held.Property.Name}");
                return null;
            case ForwardKind.Choose:
            {
                // Both branches are followed; a value they leave with different shapes is unknown.
                var a = V(n.Inputs[0]);
                var b = V(n.Inputs[1]);
                return ReferenceEquals(a, b) || a is TensorShape sa && b is TensorShape sb && sa.Dims.SequenceEqual(sb.Dims) ? a : null;
            }
            case ForwardKind.Effect:
                V(n.Inputs[0]);
                return null;
            case ForwardKind.Guard:
            case ForwardKind.Refused:
                return null;
            default:
                Stop(n.Operation!, n.Failure ?? "");
                return null;
        }
    }

    object? Invocation(ForwardNode node)
    {
        var call = (IInvocationOperation)node.Operation!;
        var m = call.TargetMethod;
        string type = m.ContainingType?.Name ?? "";
        string ns = m.ContainingType?.ContainingNamespace?.ToDisplayString() ?? "";
        // A layer called with more than its input: layer.Forward(x, mask), attention.Forward(q, k, v).
        if ((m.Name == "Forward" || m.Name == "Call") && node.Layer?.Spec is { } layer)
            return call.Arguments.Length > 0 && V(node, call.Arguments[0].Value) is TensorShape x ? Layer(call, layer, x) : null;
        if (ns == "Kiln.NN" && type == "F") return Functional(node, call);
        if (ns == "Kiln" && type == "Tensor")
            return m.IsStatic ? TensorStatic(node, call) : TensorMethod(node, call);
        Stop(call, $"the call to {m.ContainingType?.Name}.{m.Name}");
        return null;
    }

    /// <summary>A field or property of a value: a named part of a layer's result, a transpose.</summary>
    object? Member(ForwardNode node)
    {
        var target = V(node.Inputs[0]);
        string name = node.Name!;
        if (target is TensorTuple t) return t.Items.TryGetValue(name, out var item) ? item : null;
        if (node.Operation is not IPropertyReferenceOperation) return null;
        if (target is TensorShape { Open: false } x && name == "T")
            return Check(node.Operation, () => Shape(x.Dims.Length < 2 ? x.Dims : Enumerable.Reverse(x.Dims).ToArray()));
        if (name == "Training") return null;
        Stop(node.Operation, $"the property {name}");
        return null;
    }

    object? Layer(IOperation call, LayerSpec layer, TensorShape x)
    {
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

    object? Stage(IOperation call, LayerSpec layer, TensorShape x)
    {
        if (x.Open || HasUnknown(x.Dims)) return PartialStage(call, layer, x);
        return StageKnown(call, layer, x);
    }

    object? StageKnown(IOperation call, LayerSpec layer, TensorShape x)
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

    object? Functional(ForwardNode node, IInvocationOperation call)
    {
        var name = call.TargetMethod.Name;
        TensorShape? Arg(int i) => i < call.Arguments.Length ? V(node, call.Arguments[i].Value) as TensorShape : null;
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
            case "SwiGlu":
                // silu(gate)·up: the two broadcast as a product does.
                if (Arg(0) is not { Open: false } gate || Arg(1) is not { Open: false } up) return null;
                return Rule(call, new[] { gate.Dims, up.Dims }, () => Sym.Broadcast("swiglu", gate.Dims, up.Dims));
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

    object? TensorMethod(ForwardNode node, IInvocationOperation call)
    {
        if (V(node, call.Instance!) is not TensorShape x) return null;
        var m = call.TargetMethod.Name;
        object? A(int i) => i < call.Arguments.Length ? V(node, call.Arguments[i].Value) : null;
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
                var sizes = Sizes(node, call);
                if (sizes is null) return null;
                string op = m == "View" ? "view" : "reshape";
                return Rule(call, new[] { x.Dims, sizes }, () => Sym.Reshape(op, x.Dims, sizes));
            }
            case "Matmul":
                return A(0) is TensorShape b ? Rule(call, new[] { x.Dims, b.Dims }, () => Sym.Matmul(x.Dims, b.Dims)) : null;
            case "Transpose":
                return IntArg(0) is int d0 && IntArg(1) is int d1 ? Rule(call, new[] { x.Dims }, () => Sym.Transpose(x.Dims, d0, d1)) : null;
            case "Permute":
                return Sizes(node, call) is { } perm && Evaluate.AsInts(perm) is { } order ? Rule(call, new[] { x.Dims }, () => Sym.Permute(x.Dims, order)) : null;
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

    object? TensorStatic(ForwardNode node, IInvocationOperation call)
    {
        var m = call.TargetMethod.Name;
        if ((m == "Cat" || m == "Stack") && call.Arguments.Length >= 1)
        {
            var parts = Elements(call.Arguments[0].Value);
            if (parts is null) return null;
            var shapes = parts.Select(p => V(node, p) as TensorShape).ToArray();
            if (shapes.Any(s => s is null || s.Open)) return null;
            int dim = call.Arguments.Length > 1 ? Evaluate.AsInt(V(node, call.Arguments[1].Value)) ?? 0 : 0;
            var dims = shapes.Select(s => s!.Dims).ToArray();
            return Rule(call, dims, () => m == "Cat" ? Sym.Cat(dims, dim) : Sym.Stack(dims, dim));
        }
        Stop(call, $"Tensor.{m}");
        return null;
    }

    object? Binary(IBinaryOperation b, object? l, object? r)
    {
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

    SymbolicDim[]? Sizes(ForwardNode node, IInvocationOperation call)
    {
        var values = new List<SymbolicDim>();
        foreach (var a in call.Arguments)
        {
            if (a.ArgumentKind == ArgumentKind.ParamArray && a.Value is IArrayCreationOperation arr && arr.Initializer is { } init)
            {
                foreach (var e in init.ElementValues) if (V(node, e) is SymbolicDim v) values.Add(v); else return null;
            }
            else if (V(node, a.Value) is SymbolicDim v) values.Add(v);
            else if (V(node, a.Value) is SymbolicDim[] vs) values.AddRange(vs);
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
