using System.Collections.Generic;
using System.Linq;
using Kiln.Analyzers.FrontEnd;
using Kiln.Compiler.Ir;
using Kiln.Compiler.Ops.Pointwise;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Generators;

/// <summary>How each kind of front-end value becomes graph nodes.</summary>
internal sealed partial class GraphLowering
{
    int? Lower(ForwardNode n)
    {
        switch (n.Kind)
        {
            case ForwardKind.Input:
            {
                var p = n.Parameter!;
                if (p.Ordinal == 0) return _g.Input;
                // One input value per Forward parameter, in order (the compiled Forward takes the same arguments).
                return _g.AddInput(p.Ordinal, p.HasExplicitDefaultValue ? IrOps.OptionalInput
                    : p.NullableAnnotation == NullableAnnotation.Annotated ? IrOps.NullableInput : null);
            }
            case ForwardKind.Choose:
                // Training ? a : b, or a local an if (Training) left different: the operand this mode takes.
                return n.Own && _training is bool t ? Need(n.Inputs[t ? 0 : 1], n) : null;
            case ForwardKind.Binary: return Binary(n);
            case ForwardKind.Negate:
                return ForwardSyntax.IsTensor(n.Operation!.Type) && Need(n.Inputs[0], n) is int negated ? _g.Add(IrOps.Activation, negated, attr: "neg") : null;
            case ForwardKind.Member: return Member(n);
            case ForwardKind.ModelTensor:
                // A tensor of the model (a Parameter or buffer): the value is the tensor itself, its gradient goes to it.
                return _g.Add(IrOps.Island, System.Array.Empty<int>(), attr: "tensor " + n.Layer!.Display, attr2: n.Layer.Access, parameters: new[] { n.Layer.Access });
            case ForwardKind.LayerCall: return LayerCall(n);
            case ForwardKind.Call: return Call(n);
            default: return null;   // Opaque (a constant its user reads), Effect, Unfollowed: nothing to compute
        }
    }

    int? Binary(ForwardNode n)
    {
        var binary = (IBinaryOperation)n.Operation!;
        bool leftTensor = ForwardSyntax.IsTensor(binary.LeftOperand.Type), rightTensor = ForwardSyntax.IsTensor(binary.RightOperand.Type);
        if (BinaryName(binary.OperatorKind) is not { } name || !leftTensor && !rightTensor) return null;
        if (leftTensor && rightTensor)
        {
            // Two values, broadcast together when the compiled model runs (a learned scale, a positional table, a
            // per-row gate); + is the residual connection.
            if (Need(n.Inputs[0], n) is not int left || Need(n.Inputs[1], n) is not int right) return null;
            return name == "add" ? _g.Add(IrOps.Add, new[] { left, right }) : _g.Add(IrOps.Binary, new[] { left, right }, attr: name);
        }
        // A value and a number: the number is a constant of the build.
        var number = leftTensor ? binary.RightOperand : binary.LeftOperand;
        if (Number(number) is not { } constant) return RunTimeNumber(n, binary, leftTensor);
        if (Need(n.Inputs[leftTensor ? 0 : 1], n) is not int value) return null;
        string attr = !leftTensor && name is "sub" or "div" ? "r" + name : name;
        return _g.Add(IrOps.Binary, new[] { value }, attr: attr, attr2: constant);
    }

    /// <summary>
    /// A tensor and a number the build does not know (a setting of the module such as <c>x * scale</c>, read when the
    /// compiled model runs): the operation as an expression island, run eagerly inside the compiled model — the fused loops
    /// take their numbers as constants of the build. Anything else is outside the compiled subset.
    /// </summary>
    int? RunTimeNumber(ForwardNode n, IBinaryOperation binary, bool leftTensor)
    {
        var number = leftTensor ? binary.RightOperand : binary.LeftOperand;
        if (Setting(n.Inputs[leftTensor ? 1 : 0], number.Type) is not { } setting)
        {
            _why[n.Id] = new Why("the expression '" + binary.Syntax + "' (a tensor with a number that is neither a constant nor a setting of the module)", binary.Syntax);
            return null;
        }
        if (Need(n.Inputs[leftTensor ? 0 : 1], n) is not int value) return null;
        string op = OperatorText(binary.OperatorKind);
        string text = leftTensor ? $"({IrOps.Placeholder(0)} {op} {setting})" : $"({setting} {op} {IrOps.Placeholder(0)})";
        _result.Islands.Add(("'" + binary.Syntax + "'", binary.Syntax));
        return _g.Add(IrOps.Island, new[] { value }, attr: "operator " + op, attr2: text);
    }

    int? Member(ForwardNode n)
    {
        var of = _ir[n.Inputs[0]];
        // attention.Forward(x, x, x, ...).Output: self-attention.
        if (n.Name == "Output" && n.Operation is IFieldReferenceOperation && of.Kind == ForwardKind.Call && SelfAttention(of) is int attended) return attended;
        // x.T, x.mT: a view, run eagerly inside the compiled model.
        if (n.Operation is IPropertyReferenceOperation property && ForwardSyntax.IsTensor(property.Type) && ForwardSyntax.IsTensor(property.Instance?.Type))
        {
            if (Need(n.Inputs[0], n) is not int value) return null;
            _result.Islands.Add(("Tensor." + n.Name, n.Syntax!));
            return _g.Add(IrOps.Island, new[] { value }, attr: "Tensor." + n.Name, attr2: IrOps.Placeholder(0) + "." + n.Name);
        }
        return null;
    }

    /// <summary>
    /// <c>attn.Forward(x, x, x, ...)</c> on a MultiheadAttention layer: self-attention (query, key and value one value,
    /// no masks, not causal) — the attention weights, if asked for, are not used.
    /// </summary>
    int? SelfAttention(ForwardNode callNode)
    {
        var call = (IInvocationOperation)callNode.Operation!;
        if (call.TargetMethod.Name != "Forward" || call.TargetMethod.ContainingType?.Name != "MultiheadAttention" || callNode.Layer is not { } layer) return null;
        int? shared = null;
        foreach (var a in call.Arguments)
        {
            string name = a.Parameter?.Name ?? "";
            if (name is "query" or "key" or "value")
            {
                if (callNode.Operand(a.Value) is not int id || _lowered[id] is not int v || shared is { } s0 && s0 != v) return null;
                shared = v;
            }
            else if (a.ArgumentKind != ArgumentKind.DefaultValue)
            {
                // Known at build time: a constant, or folded by the reader (an argument bound to one, causal && mask is null).
                bool known = callNode.Operand(a.Value) is int arg && _ir[arg].HasConstant;
                object? value = known ? _ir[callNode.Operand(a.Value)!.Value].Constant : null;
                if (!(name is "needWeights" or "averageAttnWeights" && known) && !(name is "keyPaddingMask" or "attnMask" && known && value is null)
                    && !(name == "isCausal" && known && value is false))
                    return null;
            }
        }
        return shared is { } x ? _g.Add(IrOps.SelfAttention, x, layer.Access) : null;
    }

    /// <summary>layer.Forward(x) / layer.Call(x): its fused form, or the layer run eagerly inside the compiled model.</summary>
    int? LayerCall(ForwardNode n)
    {
        var call = (IInvocationOperation)n.Operation!;
        var member = n.Layer!;
        if (Need(n.Inputs[0], n) is not int before) return null;
        var saved = Save();
        if (Layer(member.Access, member.Type, member.Creation, before) is int after) return after;
        // No fused form: the layer runs eagerly inside the compiled model.
        Restore(saved);
        var m = call.TargetMethod;
        // A [Model] block called with several tensors whose body did not fuse: one eager call of it.
        if (n.Inputs.Length > 1) return ExpressionIsland(n);
        if (!ForwardSyntax.IsModule(member.Type) || !ForwardSyntax.IsTensor(m.ReturnType) || m.Parameters.Length != 1 || !ForwardSyntax.IsTensor(m.Parameters[0].Type))
        { _why[n.Id] = new Why($"the layer {member.Type.Name} ({member.Display})", call.Syntax); return null; }
        _result.Islands.Add(($"{member.Type.Name} ({member.Display})", call.Syntax));
        return _g.Add(IrOps.Island, before, member.Access, attr: m.Name);
    }

    int? Call(ForwardNode n)
    {
        var call = (IInvocationOperation)n.Operation!;
        var m = call.TargetMethod;
        string type = m.ContainingType?.Name ?? "", ns = m.ContainingType?.ContainingNamespace?.ToDisplayString() ?? "";
        // F.Relu(x), F.Dropout(x, 0.2, Training), ...
        if (ns == "Kiln.NN" && type == "F" && call.Arguments.Length >= 1)
        {
            if (Need(n.Operand(call.Arguments[0].Value), n) is not int before) return null;
            var saved = Save();
            if (Functional(n, m.Name, call, before) is int after) return after;
            Restore(saved);
            if (ExpressionIsland(n) is int island) return island;
            _why[n.Id] ??= new Why("F." + m.Name + (m.Name == "Dropout" ? " with a non-constant probability or a training flag other than Training" : ""), call.Syntax);
            return null;
        }
        if (ns == "Kiln" && type == "Tensor" && call.Instance is not null)
        {
            // x.Flatten(1): to the last dim only.
            if (m.Name == "Flatten" && call.Arguments.Length == 2 && call.Arguments[0].Value.ConstantValue.Value is int startDim && call.Arguments[1].Value.ConstantValue.Value is -1)
                return Need(n.Operand(call.Instance), n) is int x ? _g.Add(IrOps.Flatten, x, attr: startDim.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null;
            // x.Softmax(dim), x.LogSoftmax(dim) with a constant dim.
            if (m.Name is "Softmax" or "LogSoftmax" && call.Arguments.Length == 1 && call.Arguments[0].Value.ConstantValue.Value is int softmaxDim)
                return Need(n.Operand(call.Instance), n) is int x ? Softmax(m.Name, x, softmaxDim) : null;
            // x.Relu(), x.Tanh(), ...
            if (call.Arguments.All(a => a.ArgumentKind == ArgumentKind.DefaultValue) && Activation(m.Name) is { } act)
                return Need(n.Operand(call.Instance), n) is int x ? _g.Add(IrOps.Activation, x, attr: act) : null;
        }
        // Any other Tensor method or Tensor/F function over values and constants: run eagerly inside the compiled model.
        return ExpressionIsland(n);
    }

    /// <summary>
    /// A Tensor method, a static Tensor/F function without a fused form, or a layer called with more than its input, as an
    /// expression island: its tensor operands are graph values, every other argument a constant of the build (written
    /// back as a literal of its parameter's type).
    /// </summary>
    int? ExpressionIsland(ForwardNode n)
    {
        var call = (IInvocationOperation)n.Operation!;
        var m = call.TargetMethod;
        string type = m.ContainingType?.Name ?? "", ns = m.ContainingType?.ContainingNamespace?.ToDisplayString() ?? "";
        var layer = n.Layer;
        if (!ForwardSyntax.IsTensor(m.ReturnType) || layer is null && !(ns == "Kiln" && type == "Tensor" || ns == "Kiln.NN" && type == "F")) return null;
        var values = new List<int>();
        string? Operand(IOperation o)
        {
            var read = n.Operand(o);
            while (o is IConversionOperation c && !ForwardSyntax.IsTensor(o.Type)) o = c.Operand;
            if (o.ConstantValue is { HasValue: true, Value: null }) return "null";   // an absent optional tensor (a mask)
            if (ForwardSyntax.IsTensor(o.Type))
            {
                if (read is int absent && _ir[absent] is { HasConstant: true, Constant: null }) return "null";   // a Tensor? argument this graph is without
                if (Need(read, n) is not int v) return null;
                values.Add(v);
                return IrOps.Placeholder(values.Count - 1);
            }
            return Literal(o) ?? (read is int id ? Setting(id, o.Type) : null);
        }
        string? receiver = layer?.Access;
        if (!m.IsStatic && receiver is null && (call.Instance is null || (receiver = Operand(call.Instance)) is null)) return null;
        var parts = new List<string>();
        foreach (var a in call.Arguments)
        {
            if (a.ArgumentKind == ArgumentKind.DefaultValue || a.Parameter is null) continue;
            string? text;
            if (a.ArgumentKind == ArgumentKind.ParamArray && a.Value is IArrayCreationOperation { Initializer: { } init, Type: IArrayTypeSymbol array })
                text = ArrayText(array, init.ElementValues.Select(Operand).ToList());
            else text = Operand(a.Value);
            if (text is null) return null;
            parts.Add("@" + a.Parameter.Name + ": " + text);
        }
        string target = m.IsStatic ? m.ContainingType!.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + "." + m.Name : receiver + "." + m.Name;
        string shown = layer is null ? type + "." + m.Name : $"{type} ({layer.Display})";
        _result.Islands.Add((shown, call.Syntax));
        return _g.Add(IrOps.Island, values, layer?.Access, attr: m.Name, attr2: $"{target}({string.Join(", ", parts)})");
    }

    /// <summary>
    /// A number or flag the build does not know, as C# the compiled model evaluates when it runs: a setting of the module
    /// (<c>m.heads</c>), a value the reader folded (<c>mask is null</c> under the compiled model's non-null inputs), and
    /// +, -, *, / of those; null for anything else.
    /// </summary>
    string? Setting(int id, ITypeSymbol? type)
    {
        var node = _ir[id];
        if (node.SettingAccess is { } access) return access;
        if (node.HasConstant) return Literal(node.Constant, type);
        if (node.Kind == ForwardKind.Binary && node.Operation is IBinaryOperation b && !ForwardSyntax.IsTensor(b.Type)
            && b.OperatorKind is BinaryOperatorKind.Add or BinaryOperatorKind.Subtract or BinaryOperatorKind.Multiply or BinaryOperatorKind.Divide
            && Setting(node.Inputs[0], b.LeftOperand.Type) is { } left && Setting(node.Inputs[1], b.RightOperand.Type) is { } right)
        {
            string op = OperatorText(b.OperatorKind);
            return $"({left} {op} {right})";
        }
        return null;
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
        return o.ConstantValue.HasValue ? Literal(o.ConstantValue.Value, target) : null;
    }

    /// <summary>A known value as C# text of <paramref name="target"/> (numbers cast to it).</summary>
    static string? Literal(object? value, ITypeSymbol? target)
    {
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

    /// <summary>The fused form of a Kiln.NN layer reached by <paramref name="access"/> applied to <paramref name="x"/>; null when it has none.</summary>
    int? Layer(string access, ITypeSymbol type, IObjectCreationOperation? creation, int x)
    {
        var g = _g;
        // A layer of any assembly that stores a Linear's weight transposed (GPT-2's Conv1D): the same GEMM, read in place.
        if (type.AllInterfaces.Any(i => i.Name == "ITransposedLinear" && ForwardSyntax.IsKilnNN(i))) return g.Add(IrOps.Linear, x, access, attr: IrOps.WeightInOut);
        if (!ForwardSyntax.IsKilnNN(type)) return null;
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
            case "Dropout": return Dropout(access, x);
            case var module when UnaryOps.FindModule(module) is { } unary: return g.Add(IrOps.Activation, x, attr: unary.Name);
            case "GELU":
            {
                // The approximation is a constructor argument, read from the creation expression.
                if (creation is null) return null;
                var arg = creation.Arguments.FirstOrDefault(a => a.ArgumentKind != ArgumentKind.DefaultValue);
                return arg is null || arg.Value.ConstantValue.Value is "none" ? g.Add(IrOps.Activation, x, attr: "gelu")
                    : arg.Value.ConstantValue.Value is "tanh" ? g.Add(IrOps.Activation, x, attr: "gelu_tanh") : null;
            }
            default: return null;
        }
    }

    int Dropout(string access, int x) => _g.Add(IrOps.Dropout, x, attr: $"{access}.P", attr2: $"{access}.Training");

    int? Functional(ForwardNode n, string name, IInvocationOperation call, int x)
    {
        var g = _g;
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
            string flag = training is IPropertyReferenceOperation ? n.Owner + ".Training" : "true";
            return g.Add(IrOps.Dropout, x, attr: pv.ToString("R", System.Globalization.CultureInfo.InvariantCulture), attr2: flag);
        }
        // F.SwiGlu(gate, up): the op table's two-input op, fused with its neighbours like a product.
        if (name == "SwiGlu" && call.Arguments.Length == 2)
            return Need(n.Operand(call.Arguments[1].Value), n) is int up ? g.Add(IrOps.Binary, new[] { x, up }, attr: "swiglu") : null;
        if (name is "Softmax" or "LogSoftmax")
            return call.Arguments.Length == 2 && call.Arguments[1].Value.ConstantValue.Value is int dim ? Softmax(name, x, dim) : null;
        if (name is "CrossEntropy" or "NllLoss")
        {
            // The default form only: mean over class-index targets, no class weights or smoothing, ignore index -100.
            if (call.Arguments.Length < 2 || call.Arguments.Skip(2).Any(a => a.ArgumentKind != ArgumentKind.DefaultValue)) return null;
            if (Need(n.Operand(call.Arguments[1].Value), n) is not int target) return null;
            int logits = x;
            if (name == "NllLoss")
            {
                // NLL of a log-softmax over the class dim: one fused kernel from the logits; the log-probabilities are never kept.
                var node = g.Node(x);
                var mark = g.Mark();
                if (node.Op != IrOps.Softmax || node.Attr != "log_softmax" || node.Attr2 != "1" || mark.Nodes - 1 != x || target == x) return null;
                logits = node.Inputs[0];
                g.Rollback((x, mark.Conditions));
            }
            return g.Add(IrOps.CrossEntropy, new[] { logits, target });
        }
        return Activation(name) is { } act && call.Arguments.Length == 1 ? g.Add(IrOps.Activation, x, attr: act) : null;
    }

    int Softmax(string method, int x, int dim) =>
        _g.Add(IrOps.Softmax, x, attr: method == "Softmax" ? "softmax" : "log_softmax", attr2: dim.ToString(System.Globalization.CultureInfo.InvariantCulture));

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

    /// <summary>The C# text of +, -, * or / (the kinds <see cref="BinaryName"/> accepts).</summary>
    static string OperatorText(BinaryOperatorKind kind) => kind switch
    {
        BinaryOperatorKind.Add => "+",
        BinaryOperatorKind.Subtract => "-",
        BinaryOperatorKind.Multiply => "*",
        _ => "/",
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
}
