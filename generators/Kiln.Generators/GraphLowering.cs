using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Analyzers.FrontEnd;
using Kiln.Compiler.Ir;
using Microsoft.CodeAnalysis;

namespace Kiln.Generators;

/// <summary>
/// The generator's pass over a read Forward (<see cref="ForwardIr"/>, from the front end the analyzers share): lowers
/// its values to the compiler's graph (<see cref="IrGraph"/>) — known layers to their fused forms, F.* activations,
/// dropout, softmax and cross entropy, Tensor methods, residual arithmetic, [Model] blocks and built-in composite layers
/// (TransformerEncoderLayer) through their own Forward as the reader followed it — and anything else
/// over tensors to an expression island run eagerly inside the compiled model. A value it cannot lower is reported by
/// construct and location when something needs it, and the model runs eagerly. A Forward that branches on Training is
/// lowered once per mode.
/// </summary>
internal sealed partial class GraphLowering
{
    public sealed class Result
    {
        public IrGraph? Graph;
        /// <summary>The graph in eval mode when Forward branches on <c>Training</c> (then <see cref="Graph"/> is the training one).</summary>
        public IrGraph? EvalGraph;
        /// <summary>
        /// The graph for calls whose trailing <c>Tensor?</c> arguments are all null (read with them as the constant null:
        /// <c>mask is null</c> true, <c>attnMask: mask</c> null), or null when that reading does not lower.
        /// </summary>
        public IrGraph? NullGraph;
        /// <summary>The eval-mode <see cref="NullGraph"/> when Forward branches on <c>Training</c> (both are set, or neither).</summary>
        public IrGraph? NullEvalGraph;
        public string? Unsupported;
        public SyntaxNode? Where;
        /// <summary>Layers run by the eager engine inside the compiled model, with the call that uses each.</summary>
        public List<(string Layer, SyntaxNode Where)> Islands = new List<(string, SyntaxNode)>();
    }

    /// <summary>A value the lowering could not make, and why (the first construct on its path).</summary>
    readonly record struct Why(string Construct, SyntaxNode? Where);

    /// <summary>An inlined [Model] block being lowered: where to roll back to, and the first failure inside it.</summary>
    sealed class InlineScope(int call, ((int, int) Graph, int Islands) mark)
    {
        public int Call { get; } = call;
        public ((int, int) Graph, int Islands) Mark { get; } = mark;
        public Why? Failed;
    }

    readonly ForwardIr _ir;
    readonly bool? _training;
    readonly Result _result;
    readonly IrBuilder _g = new IrBuilder();
    readonly int?[] _lowered;
    readonly Why?[] _why;
    readonly Stack<InlineScope> _scopes = new Stack<InlineScope>();

    GraphLowering(ForwardIr ir, bool? training, Result result)
    {
        _ir = ir;
        _training = training;
        _result = result;
        _lowered = new int?[ir.Nodes.Count];
        _why = new Why?[ir.Nodes.Count];
    }

    /// <summary>Reads <paramref name="forward"/> with the shared front end and lowers it (per Training mode when it branches on it).</summary>
    public static Result Lower(IMethodSymbol forward, SemanticModel semantics, CancellationToken cancel)
    {
        var declaration = forward.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancel);
        // Tensors; after the first, Tensor? (with or without the default null: trailing ones all null take the graph read
        // without them, any other null argument runs the eager Forward).
        static bool Plain(IParameterSymbol p) => !p.HasExplicitDefaultValue && p.NullableAnnotation != NullableAnnotation.Annotated;
        static bool NullTensor(IParameterSymbol p) => p.Ordinal > 0 && (!p.HasExplicitDefaultValue || p.ExplicitDefaultValue is null);
        if (forward.Parameters.Length == 0 || !ForwardSyntax.IsTensor(forward.ReturnType)
            || forward.Parameters.Any(p => !ForwardSyntax.IsTensor(p.Type) || p.RefKind != RefKind.None || p.IsParams || !Plain(p) && !NullTensor(p)))
            return Fail(new Result(), "a Forward whose parameters are not all tensors (after the first, Tensor? may default to null), or that does not return one", declaration);
        var ir = ForwardReader.Read(forward, semantics, inlineModels: true, cancel);
        if (ir.NotRead is { } notRead) return Fail(new Result(), notRead.Construct, notRead.Where);
        if (!ir.BranchesOnTraining)
        {
            var result = new GraphLowering(ir, null, new Result()).Run(declaration);
            if (result.Graph is { } full) result.NullGraph = WithoutOptionals(forward, semantics, full, declaration, cancel);
            return result;
        }
        // Forward branches on Training: one graph per mode, chosen when the compiled model runs.
        var training = new GraphLowering(ir, true, new Result()).Run(declaration);
        if (training.Graph is null) return training;
        var eval = new GraphLowering(ir, false, new Result()).Run(declaration);
        if (eval.Graph is null) return eval;
        training.EvalGraph = eval.Graph;
        if (WithoutOptionals(forward, semantics, training.Graph, declaration, cancel, training: true) is { } nullTraining
            && WithoutOptionals(forward, semantics, eval.Graph, declaration, cancel, training: false) is { } nullEval)
        {
            training.NullGraph = nullTraining;
            training.NullEvalGraph = nullEval;
        }
        return training;
    }

    /// <summary>
    /// The graph for calls without Forward's trailing <c>Tensor?</c> parameters (all null), when every parameter before
    /// them is an input of both graphs in order; null when there are none or that reading does not lower. With
    /// <paramref name="training"/>, the graph of that mode (for a Forward that branches on <c>Training</c>).
    /// </summary>
    static IrGraph? WithoutOptionals(IMethodSymbol forward, SemanticModel semantics, IrGraph full, SyntaxNode? declaration, CancellationToken cancel, bool? training = null)
    {
        int from = forward.Parameters.Length;
        while (from > 1 && forward.Parameters[from - 1].NullableAnnotation == NullableAnnotation.Annotated) from--;
        if (from == forward.Parameters.Length || full.InputValues.Count != forward.Parameters.Length) return null;
        var ir = ForwardReader.Read(forward, semantics, inlineModels: true, cancel, nullFrom: from);
        if (ir.NotRead is not null || ir.BranchesOnTraining && training is null) return null;
        var graph = new GraphLowering(ir, ir.BranchesOnTraining ? training : null, new Result()).Run(declaration).Graph;
        return graph is not null && graph.InputValues.Select(v => IrGraph.InputPosition(graph.Nodes[v])).SequenceEqual(Enumerable.Range(0, from)) ? graph : null;
    }

    Result Run(SyntaxNode? declaration)
    {
        var readers = _ir.Readers();
        var live = Live(readers);
        var inlinedFrom = _ir.Nodes.Where(n => n.InlinedFrom is not null).ToLookup(n => n.InlinedFrom!.Value);
        foreach (var node in _ir.Nodes)
        {
            // Blocks whose bodies start here (outermost first): roll back to here if one of them cannot be lowered.
            foreach (var call in inlinedFrom[node.Id].OrderByDescending(n => n.Id))
                if (live[call.Id]) _scopes.Push(new InlineScope(call.Id, Save()));
            if (!live[node.Id]) continue;
            if (node.Kind == ForwardKind.Guard) { _g.Require(node.Name!); continue; }
            int? value = node.Kind == ForwardKind.LayerCall && node.InlinedValue is int inner ? EndInline(node, inner) : Lower(node);
            _lowered[node.Id] = value;
            if (value is null)
            {
                var why = _why[node.Id] ??= new Why(node.Failure ?? "the expression '" + node.Syntax + "'", node.Syntax);
                // Something nothing reads (a statement) must lower; a value only when it is read (an unread constant, such
                // as an argument the reader folded, is no statement).
                if (readers[node.Id] == 0 && node.Id != _ir.Returned && node.Kind != ForwardKind.Opaque && Fatal(why)) return _result;
            }
        }
        if (_ir.Returned is not int returned)
            return Fail(_result, "a Forward that does not end in one return", declaration);
        if (_lowered[returned] is not int output) return Fail(_result, _why[returned]?.Construct ?? "Forward", _why[returned]?.Where);
        if (!_g.HasParameters && !_g.HasElementwise)
            return Fail(_result, "a Forward without a layer that has parameters or an elementwise op", declaration);
        _result.Graph = _g.Build(output);
        return _result;
    }

    /// <summary>
    /// The nodes this mode computes: what the returned value reads (through a branch on Training, only this mode's side),
    /// and the statements read under this mode with what they read.
    /// </summary>
    bool[] Live(int[] readers)
    {
        var mode = _training is null ? ForwardModes.Both : _training.Value ? ForwardModes.Training : ForwardModes.Eval;
        var live = new bool[_ir.Nodes.Count];
        var stack = new Stack<int>();
        for (int i = _ir.Nodes.Count - 1; i >= 0; i--)
            if (readers[i] == 0 && (_ir[i].Modes & mode) != 0) stack.Push(i);
        if (_ir.Returned is int r) stack.Push(r);
        while (stack.Count > 0)
        {
            int id = stack.Pop();
            if (live[id]) continue;
            live[id] = true;
            var n = _ir[id];
            if (n.Kind == ForwardKind.Choose && n.Own && _training is bool t) stack.Push(n.Inputs[t ? 0 : 1]);
            else foreach (int i in n.Inputs) stack.Push(i);
            if (n.InlinedValue is int v) stack.Push(v);
        }
        return live;
    }

    /// <summary>The end of an inlined block: its value, or (when something in it could not be lowered) the block as one eager call.</summary>
    int? EndInline(ForwardNode call, int inner)
    {
        var scope = _scopes.Pop();
        if (scope.Failed is null && _lowered[inner] is int v) return v;
        Restore(scope.Mark);
        for (int i = call.InlinedFrom!.Value; i < call.Id; i++) { _lowered[i] = null; _why[i] = null; }
        return Lower(call);
    }

    /// <summary>A failure of something that had to lower: inside an inlined block it sends the block eager, otherwise the model.</summary>
    bool Fatal(Why why)
    {
        if (_scopes.Count > 0) { _scopes.Peek().Failed ??= why; return false; }
        Fail(_result, why.Construct, why.Where);
        return true;
    }

    /// <summary>The lowered value of <paramref name="id"/>; null (and <paramref name="user"/> fails for the same reason) when it has none.</summary>
    int? Need(int? id, ForwardNode user)
    {
        if (id is int i && _lowered[i] is int v) return v;
        if (id is int j) _why[user.Id] ??= _why[j] ?? new Why(_ir[j].Failure ?? "the expression '" + _ir[j].Syntax + "'", _ir[j].Syntax);
        return null;
    }

    ((int, int) Graph, int Islands) Save() => (_g.Mark(), _result.Islands.Count);

    void Restore(((int, int) Graph, int Islands) s)
    {
        _g.Rollback(s.Graph);
        _result.Islands.RemoveRange(s.Islands, _result.Islands.Count - s.Islands);
    }

    static Result Fail(Result r, string construct, SyntaxNode? where)
    {
        r.Graph = null;
        r.Unsupported ??= construct;
        r.Where ??= where;
        return r;
    }
}
