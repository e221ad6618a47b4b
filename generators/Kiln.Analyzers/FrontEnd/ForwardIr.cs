using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.FrontEnd;

/// <summary>What a value of a read Forward is.</summary>
internal enum ForwardKind
{
    /// <summary>A Forward parameter (<see cref="ForwardNode.Parameter"/>).</summary>
    Input,
    /// <summary>
    /// An expression the reader does not take apart: a constant, <c>Training</c>, a number field, a module. Its
    /// <see cref="ForwardNode.Operation"/> is what the passes read; <see cref="ForwardNode.Failure"/> names it when used as a tensor.
    /// </summary>
    Opaque,
    /// <summary><c>layer.Forward(x)</c> / <c>layer.Call(x)</c> on a layer of the module (<see cref="ForwardNode.Layer"/>; Inputs [x]).</summary>
    LayerCall,
    /// <summary>Any other invocation: a Tensor method, an F function, a layer called with more than its input, a helper.</summary>
    Call,
    /// <summary><c>a op b</c> (tensors or numbers; Inputs [left, right]).</summary>
    Binary,
    /// <summary><c>-a</c> (Inputs [a]).</summary>
    Negate,
    /// <summary>A field or property of a value: <c>x.T</c>, <c>lstm.Forward(x).Output</c> (<see cref="ForwardNode.Name"/>; Inputs [of]).</summary>
    Member,
    /// <summary>A tensor field or property of the module (a Parameter or buffer; <see cref="ForwardNode.Layer"/> reaches it).</summary>
    ModelTensor,
    /// <summary>A branch on Training: Inputs [when training, when not]; <see cref="ForwardNode.Own"/> when it is the model's own flag.</summary>
    Choose,
    /// <summary>An expression statement kept for what it does (Inputs [its value]).</summary>
    Effect,
    /// <summary>
    /// A setting of a composite layer the reader resolved from the layer's creation (<see cref="ForwardNode.Name"/>: the
    /// C# condition, over the model <c>m</c>, under which the read holds; the compiled model checks it before running).
    /// </summary>
    Guard,
    /// <summary>A construct the lowering refuses while the shape checker reads on (a statement after the return, a return in a loop).</summary>
    Refused,
    /// <summary>A statement or expression outside what the reader follows; nothing after it is read.</summary>
    Unfollowed,
}

/// <summary>
/// One value of the front end's IR: what the expression is, the values it reads, the operation it came from (for
/// diagnostics and constants), and the layer it calls. Built by <see cref="ForwardReader"/>; read by the shape checker
/// (analyzers) and the lowering to the compiler's graph (generator).
/// </summary>
internal sealed class ForwardNode
{
    public ForwardNode(int id, ForwardKind kind, IOperation? operation, int[] inputs)
    {
        Id = id;
        Kind = kind;
        Operation = operation;
        Inputs = inputs;
    }

    public int Id { get; }
    public ForwardKind Kind { get; }
    /// <summary>The operation read (for a Call, the invocation; for a statement-level node, the statement).</summary>
    public IOperation? Operation { get; }
    /// <summary>The values this one reads, in order (a Call's receiver first, then its arguments' values).</summary>
    public int[] Inputs { get; }
    public SyntaxNode? Syntax => Operation?.Syntax;

    public IParameterSymbol? Parameter { get; init; }
    public LayerRef? Layer { get; init; }
    public string? Name { get; init; }
    public bool Own { get; init; }
    /// <summary>Whether the reader knows this value at build time (a constant, or folded from constants and settings).</summary>
    public bool HasConstant { get; init; }
    /// <summary>The value known at build time (when <see cref="HasConstant"/>).</summary>
    public object? Constant { get; init; }
    /// <summary>Why the lowering cannot use this value (an Opaque, Effect, Unfollowed or foreign Choose), as a diagnostic names it.</summary>
    public string? Failure { get; init; }
    /// <summary>The module whose Forward this node is in, as a C# expression over the model <c>m</c>.</summary>
    public string Owner { get; init; } = "m";
    /// <summary>The modes this node runs in: it was read inside <c>if (Training)</c> (Training), its else (Eval), or outside (both).</summary>
    public ForwardModes Modes { get; init; } = ForwardModes.Both;
    /// <summary>For the call of an inlined [Model] block: the first of its body's nodes (its value is <see cref="InlinedValue"/>).</summary>
    public int? InlinedFrom { get; init; }
    public int? InlinedValue { get; init; }
    /// <summary>
    /// For a number or flag field of the module (an Opaque the build cannot know: <c>heads</c> set from a config): the C#
    /// expression over <c>m</c> that reads it when the compiled model runs.
    /// </summary>
    public string? SettingAccess { get; init; }

    /// <summary>The value an operand of this node (its receiver, an argument, an element of an argument list) was read into.</summary>
    public int? Operand(IOperation operation)
    {
        if (_operands is null) return null;
        for (var o = operation; o is not null; o = (o as IConversionOperation)?.Operand)
            if (_operands.TryGetValue(o, out int v)) return v;
        return null;
    }

    Dictionary<IOperation, int>? _operands;

    internal void SetOperands(Dictionary<IOperation, int> operands) => _operands = operands;

    /// <inheritdoc/>
    public override string ToString() => $"%{Id} = {Kind} {Name ?? Layer?.Access ?? Operation?.Syntax.ToString()} ({string.Join(", ", Inputs)})";
}

/// <summary>The Training modes a node is read under.</summary>
[System.Flags]
internal enum ForwardModes
{
    None = 0,
    Training = 1,
    Eval = 2,
    Both = Training | Eval,
}

/// <summary>A Forward read into values (<see cref="ForwardNode"/>) in the order C# evaluates them.</summary>
internal sealed class ForwardIr
{
    public ForwardIr(IMethodSymbol forward) => Forward = forward;

    public IMethodSymbol Forward { get; }
    public List<ForwardNode> Nodes { get; } = new List<ForwardNode>();
    /// <summary>The returned value (null when the reader stopped before a return).</summary>
    public int? Returned { get; set; }
    /// <summary>Whether a value depends on the model's own Training flag (then the model is lowered once per mode).</summary>
    public bool BranchesOnTraining { get; set; }
    /// <summary>The declaration or body the reader could not read, when it could not start (Forward's own syntax is missing).</summary>
    public (string Construct, SyntaxNode? Where)? NotRead { get; set; }

    public ForwardNode this[int id] => Nodes[id];

    /// <summary>How many nodes read each value (the returned value once more).</summary>
    public int[] Readers()
    {
        var readers = new int[Nodes.Count];
        foreach (var n in Nodes) foreach (int i in n.Inputs) readers[i]++;
        foreach (var n in Nodes) if (n.InlinedValue is int v) readers[v]++;
        if (Returned is int r) readers[r]++;
        return readers;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Join("\n", Nodes) + $"\nreturn %{Returned}";
}

/// <summary>A layer reached by a C# expression over the model <c>m</c>, with the creation that built it when known.</summary>
internal sealed class LayerRef(string access, ITypeSymbol type, IObjectCreationOperation? creation)
{
    LayerSpec? _spec;
    bool _specRead;

    public string Access { get; } = access;
    public ITypeSymbol Type { get; } = type;
    public IObjectCreationOperation? Creation { get; } = creation;

    /// <summary>The layer's constructor arguments as the shape rules read them (null when it is not a Kiln.NN layer built in sight).</summary>
    public LayerSpec? Spec
    {
        get
        {
            if (!_specRead) { _spec = Creation is null ? null : ModelLayers.SpecOf(Creation); _specRead = true; }
            return _spec;
        }
    }

    /// <summary>The member's name as a diagnostic shows it (<c>fc1</c>, <c>blocks[0]</c>'s item type aside).</summary>
    public string Display => Access.Substring(Access.LastIndexOf('.') + 1).TrimEnd(')').Replace(GeneratedAccessor.Prefix, "");
}
