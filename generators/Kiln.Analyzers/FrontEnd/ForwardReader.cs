using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.FrontEnd;

/// <summary>
/// The one reader of a model's Forward: follows its body through the operation tree — locals and reassignments, layers
/// of the module (fields, properties, <c>foreach</c> over a ModuleList, [Model] blocks inlined when asked), calls,
/// arithmetic, branches on <c>Training</c> — into <see cref="ForwardIr"/> values in evaluation order. What each value
/// means is decided by the passes over it: the shape checker (analyzers) and the lowering to the compiler's graph
/// (generator). A statement outside what it follows ends the IR with an <see cref="ForwardKind.Unfollowed"/> node.
/// </summary>
internal sealed class ForwardReader
{
    /// <summary>A local's value: a node, or a layer (a <c>foreach</c> variable over a ModuleList).</summary>
    sealed class Scope
    {
        public readonly Dictionary<ISymbol, object> Env = new Dictionary<ISymbol, object>(SymbolEqualityComparer.Default);
        public string Owner = "m";
        public string MemberPrefix = "";
        public SemanticModel Semantics = null!;
        public int Depth;
        /// <summary>The module class whose code this is (its own methods are read where they are called).</summary>
        public INamedTypeSymbol? Type;
        /// <summary>For a built-in composite layer's Forward: the layer, whose creation gives its settings; its members are reached publicly.</summary>
        public LayerRef? Settings;

        public Scope Inner(string owner, string memberPrefix, SemanticModel semantics, INamedTypeSymbol? type, LayerRef? settings) =>
            new Scope { Owner = owner, MemberPrefix = memberPrefix, Semantics = semantics, Depth = Depth + 1, Type = type, Settings = settings };
    }

    readonly ForwardIr _ir;
    readonly bool _inlineModels;
    readonly CancellationToken _cancel;
    ForwardModes _modes = ForwardModes.Both;
    bool _stopped;

    ForwardReader(ForwardIr ir, bool inlineModels, CancellationToken cancel)
    {
        _ir = ir;
        _inlineModels = inlineModels;
        _cancel = cancel;
    }

    /// <summary>
    /// Reads <paramref name="forward"/>. With <paramref name="inlineModels"/> a call of a [Model] block of the module is
    /// read through the block's own Forward (the generator fuses it); otherwise it stays one call. Parameters from
    /// <paramref name="nullFrom"/> on read as the constant null (the generator's graph for calls without them).
    /// </summary>
    public static ForwardIr Read(IMethodSymbol forward, SemanticModel semantics, bool inlineModels, CancellationToken cancel, int nullFrom = int.MaxValue)
    {
        var ir = new ForwardIr(forward);
        var reader = new ForwardReader(ir, inlineModels, cancel);
        var scope = new Scope { Semantics = semantics, Type = forward.ContainingType };
        if (forward.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancel) is not MethodDeclarationSyntax method) { ir.NotRead = ("Forward's declaration", null); return ir; }
        SyntaxNode? body = (SyntaxNode?)method.Body ?? method.ExpressionBody;
        if (body is null || semantics.GetOperation(body, cancel) is not { } operation) { ir.NotRead = ("Forward's body", method); return ir; }
        foreach (var p in forward.Parameters)
            scope.Env[p] = reader.Add(p.Ordinal >= nullFrom
                ? new ForwardNode(ir.Nodes.Count, ForwardKind.Opaque, null, System.Array.Empty<int>()) { Parameter = p, HasConstant = true, Constant = null, Failure = "the null argument '" + p.Name + "'" }
                : new ForwardNode(ir.Nodes.Count, ForwardKind.Input, null, System.Array.Empty<int>()) { Parameter = p });
        int? returned = null;
        reader.Statements(Single(operation), scope, ref returned);
        ir.Returned = returned;
        return ir;
    }

    static IEnumerable<IOperation> Single(IOperation op) => op is IBlockOperation block ? block.Operations : new[] { op };

    int Add(ForwardNode node)
    {
        _ir.Nodes.Add(node);
        return node.Id;
    }

    int Node(ForwardKind kind, IOperation? operation, int[] inputs, Scope scope, string? failure = null, string? name = null, LayerRef? layer = null, bool own = false) =>
        Add(new ForwardNode(_ir.Nodes.Count, kind, operation, inputs) { Failure = failure, Name = name, Layer = layer, Own = own, Owner = scope.Owner, Modes = _modes });

    void Unfollowed(IOperation at, string construct, Scope scope)
    {
        Node(ForwardKind.Unfollowed, at, System.Array.Empty<int>(), scope, failure: construct);
        _stopped = true;
    }

    /// <summary>A construct the lowering refuses while the shape checker reads on (a statement after the return, a return in a loop).</summary>
    void LoweringFails(IOperation at, string construct, Scope scope) =>
        Node(ForwardKind.Refused, at, System.Array.Empty<int>(), scope, failure: construct);

    void Statements(IEnumerable<IOperation> statements, Scope scope, ref int? returned)
    {
        foreach (var statement in statements)
        {
            if (_stopped) return;
            _cancel.ThrowIfCancellationRequested();
            if (returned is not null) LoweringFails(statement, "a statement after the return", scope);
            switch (statement)
            {
                case IBlockOperation inner:
                    Statements(inner.Operations, scope, ref returned);
                    break;
                case IUsingDeclarationOperation { DeclarationGroup: var scoped } when ForwardSyntax.IsTensorScope(scoped):
                    // using var scope = Tensor.Scope(): how the eager path frees its temporaries; the compiled model owns its
                    // buffers, so there is nothing to read (scope.Keep(x) reads as x).
                    break;
                case IVariableDeclarationGroupOperation group:
                    foreach (var declaration in group.Declarations)
                        foreach (var d in declaration.Declarators)
                        {
                            var init = d.Initializer ?? declaration.Initializer;
                            scope.Env[d.Symbol] = init is null ? Node(ForwardKind.Opaque, d, System.Array.Empty<int>(), scope, failure: "a local without a value") : Expr(init.Value, scope);
                        }
                    break;
                case IExpressionStatementOperation { Operation: ISimpleAssignmentOperation assign } when assign.Target is ILocalReferenceOperation or IParameterReferenceOperation:
                    Assign(assign, scope);
                    break;
                case IExpressionStatementOperation e:
                {
                    var value = e.Operation is ISimpleAssignmentOperation other ? Expr(other.Value, scope) : Expr(e.Operation, scope);
                    Node(ForwardKind.Effect, statement, new[] { value }, scope, failure: ForwardSyntax.Describe(statement));
                    break;
                }
                case IReturnOperation { ReturnedValue: { } value }:
                {
                    int v = Expr(value, scope);
                    returned ??= v;
                    break;
                }
                case IConditionalOperation branch when ForwardSyntax.TrainingTest(branch.Condition, ownOnly: false) is { } whenTraining:
                    Branch(branch, whenTraining, scope, ref returned);
                    break;
                case IConditionalOperation setting when Fold(setting.Condition, scope) is { } known && known.Value is bool taken:
                {
                    // if (NormFirst) ...: a setting known from the layer's creation; only its side is read.
                    var side = taken ? setting.WhenTrue : setting.WhenFalse;
                    if (side is not null) Statements(Single(side), scope, ref returned);
                    break;
                }
                case IForEachLoopOperation loop when loop.LoopControlVariable is IVariableDeclaratorOperation variable
                                                  && Member(loop.Collection, scope) is { } list && ListItems(list) is { } items:
                    // foreach over a ModuleList of known layers: the body once per layer, in order.
                    foreach (var item in items)
                    {
                        scope.Env[variable.Symbol] = item;
                        int? inLoop = null;
                        Statements(Single(loop.Body), scope, ref inLoop);
                        if (inLoop is not null) LoweringFails(loop, "a return inside a loop", scope);
                    }
                    scope.Env.Remove(variable.Symbol);
                    break;
                default:
                    Unfollowed(statement, ForwardSyntax.Describe(statement), scope);
                    return;
            }
        }
    }

    void Assign(ISimpleAssignmentOperation assign, Scope scope)
    {
        int v = Expr(assign.Value, scope);
        if (assign.Target is ILocalReferenceOperation l) scope.Env[l.Local] = v;
        else if (assign.Target is IParameterReferenceOperation p) scope.Env[p.Parameter] = v;
    }

    /// <summary>
    /// <c>if (Training) ... else ...</c>: both branches, each read under its mode; a local they leave different becomes a
    /// <see cref="ForwardKind.Choose"/> of the two.
    /// </summary>
    void Branch(IConditionalOperation branch, bool whenTraining, Scope scope, ref int? returned)
    {
        bool own = ForwardSyntax.TrainingTest(branch.Condition, ownOnly: true) is not null;
        if (own) _ir.BranchesOnTraining = true;
        var before = new Dictionary<ISymbol, object>(scope.Env, SymbolEqualityComparer.Default);
        var outer = _modes;
        int? returnedTrue = returned, returnedFalse = returned;
        _modes = outer & (own ? (whenTraining ? ForwardModes.Training : ForwardModes.Eval) : ForwardModes.Both);
        Statements(Single(branch.WhenTrue), scope, ref returnedTrue);
        var afterTrue = new Dictionary<ISymbol, object>(scope.Env, SymbolEqualityComparer.Default);
        scope.Env.Clear();
        foreach (var kv in before) scope.Env[kv.Key] = kv.Value;
        _modes = outer & (own ? (whenTraining ? ForwardModes.Eval : ForwardModes.Training) : ForwardModes.Both);
        if (branch.WhenFalse is not null) Statements(Single(branch.WhenFalse), scope, ref returnedFalse);
        _modes = outer;
        if (_stopped) return;
        foreach (var kv in afterTrue)
        {
            if (!scope.Env.TryGetValue(kv.Key, out var other) || Equals(kv.Value, other)) continue;
            if (kv.Value is int a && other is int b) scope.Env[kv.Key] = Choose(branch, whenTraining ? a : b, whenTraining ? b : a, own, scope);
        }
        if (returnedTrue != returnedFalse)
        {
            if (returnedTrue is int a && returnedFalse is int b && returned is null) returned = Choose(branch, whenTraining ? a : b, whenTraining ? b : a, own, scope);
            else
            {
                // One branch returns and the other goes on: the shapes read on, the lowering (one graph per mode) does not.
                LoweringFails(branch, "a statement after the return", scope);
                returned ??= returnedTrue ?? returnedFalse;
            }
        }
    }

    int Choose(IOperation at, int whenTraining, int whenEval, bool own, Scope scope) =>
        Node(ForwardKind.Choose, at, new[] { whenTraining, whenEval }, scope, own: own, failure: "an if statement");

    /// <summary>Reads an expression into a value.</summary>
    int Expr(IOperation op, Scope scope)
    {
        _cancel.ThrowIfCancellationRequested();
        var original = op;
        op = op.UnwrapConversions();
        if (op is IParenthesizedOperation paren) return Expr(paren.Operand, scope);
        if (op.ConstantValue.HasValue) return Opaque(original, scope);
        if (!ForwardSyntax.IsTensor(op.Type) && op is not (IParameterReferenceOperation or ILocalReferenceOperation) && Fold(op, scope) is { } folded)
            return Add(new ForwardNode(_ir.Nodes.Count, ForwardKind.Opaque, original, System.Array.Empty<int>())
            { Owner = scope.Owner, Modes = _modes, HasConstant = true, Constant = folded.Value, Failure = "the expression '" + op.Syntax + "'" });
        switch (op)
        {
            case IParameterReferenceOperation p when scope.Env.TryGetValue(p.Parameter, out var pv) && pv is int pi: return pi;
            case ILocalReferenceOperation l when scope.Env.TryGetValue(l.Local, out var lv) && lv is int li: return li;
            case ISimpleAssignmentOperation assign when assign.Target is ILocalReferenceOperation or IParameterReferenceOperation:
            {
                Assign(assign, scope);
                return (int)(assign.Target is ILocalReferenceOperation tl ? scope.Env[tl.Local] : scope.Env[((IParameterReferenceOperation)assign.Target).Parameter]);
            }
            case IConditionalOperation { WhenFalse: { } otherwise } choice when Fold(choice.Condition, scope) is { Value: bool taken }:
                return Expr(taken ? choice.WhenTrue : otherwise, scope);
            case IConditionalOperation choice when choice.WhenFalse is not null && ForwardSyntax.TrainingTest(choice.Condition, ownOnly: false) is { } whenTraining:
            {
                bool own = ForwardSyntax.TrainingTest(choice.Condition, ownOnly: true) is not null;
                if (own) _ir.BranchesOnTraining = true;
                var outer = _modes;
                _modes = outer & (own ? (whenTraining ? ForwardModes.Training : ForwardModes.Eval) : ForwardModes.Both);
                int a = Expr(choice.WhenTrue, scope);
                _modes = outer & (own ? (whenTraining ? ForwardModes.Eval : ForwardModes.Training) : ForwardModes.Both);
                int b = Expr(choice.WhenFalse, scope);
                _modes = outer;
                return Node(ForwardKind.Choose, op, whenTraining ? new[] { a, b } : new[] { b, a }, scope, own: own, failure: "the expression '" + op.Syntax + "'");
            }
            case IBinaryOperation binary:
            {
                int l = Expr(binary.LeftOperand, scope), r = Expr(binary.RightOperand, scope);
                return Node(ForwardKind.Binary, binary, new[] { l, r }, scope, failure: "the expression '" + op.Syntax + "'");
            }
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus } negate:
                return Node(ForwardKind.Negate, negate, new[] { Expr(negate.Operand, scope) }, scope, failure: "the expression '" + op.Syntax + "'");
            case IMemberReferenceOperation { Instance: IInstanceReferenceOperation } member and (IFieldReferenceOperation or IPropertyReferenceOperation)
                when ForwardSyntax.IsTensor(member.Type):
                // A tensor of the model (a Parameter or buffer).
                return Member(member, scope) is { } held
                    ? Node(ForwardKind.ModelTensor, member, System.Array.Empty<int>(), scope, layer: held, name: member.Member.Name, failure: "the expression '" + op.Syntax + "'")
                    : Opaque(original, scope);
            case IMemberReferenceOperation { Instance: { } of } member and (IFieldReferenceOperation or IPropertyReferenceOperation)
                when of is not IInstanceReferenceOperation && !ForwardSyntax.IsModule(of.Type):
                return Node(ForwardKind.Member, member, new[] { Expr(of, scope) }, scope, name: member.Member.Name, failure: "the expression '" + op.Syntax + "'");
            case IMemberReferenceOperation { Instance: IInstanceReferenceOperation } setting and (IFieldReferenceOperation or IPropertyReferenceOperation)
                when SettingAccess(setting.Member, scope) is { } access:
                // A number or flag of the module set when it was built (heads from a config): read when the compiled model runs.
                return Add(new ForwardNode(_ir.Nodes.Count, ForwardKind.Opaque, original, System.Array.Empty<int>())
                { Owner = scope.Owner, Modes = _modes, SettingAccess = access, Failure = "the expression '" + op.Syntax + "'" });
            case IInvocationOperation call:
                return Invocation(call, scope);
            default:
                return Opaque(original, scope);
        }
    }

    /// <summary>
    /// How compiled code reads <paramref name="member"/>, a number or flag field (or auto-property) of the module whose code
    /// this is: <c>m.heads</c> at the top, the generated accessor inside an inlined [Model] block; null for anything else
    /// (a composite layer's members, computed properties, other types).
    /// </summary>
    static string? SettingAccess(ISymbol member, Scope scope)
    {
        if (scope.Settings is not null || member.IsStatic || !SymbolEqualityComparer.Default.Equals(member.ContainingType, scope.Type)) return null;
        var type = member switch
        {
            IFieldSymbol { IsConst: false } f => f.Type,
            IPropertySymbol { IsIndexer: false } p when p.ContainingType.GetMembers().OfType<IFieldSymbol>().Any(f => SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, p)) => p.Type,
            _ => null,
        };
        if (!GeneratedAccessor.IsSetting(type)) return null;
        return scope.MemberPrefix.Length == 0 ? scope.Owner + "." + member.Name : scope.MemberPrefix + member.Name;
    }

    int Opaque(IOperation op, Scope scope)
    {
        var constant = op.UnwrapConversions().ConstantValue;
        return Add(new ForwardNode(_ir.Nodes.Count, ForwardKind.Opaque, op, System.Array.Empty<int>())
        {
            Owner = scope.Owner,
            Modes = _modes,
            Failure = "the expression '" + op.Syntax + "'",
            HasConstant = constant.HasValue,
            Constant = constant.HasValue ? constant.Value : null,
        });
    }

    int Invocation(IInvocationOperation call, Scope scope)
    {
        var m = call.TargetMethod;
        // scope.Keep(x): x, kept past the eager path's scope.
        if (m.Name == "Keep" && ForwardSyntax.IsTensorScope(m.ContainingType) && call.Arguments.Length == 1) return Expr(call.Arguments[0].Value, scope);
        // layer.Forward(x) / layer.Call(x) on a layer of the module.
        if ((m.Name == "Forward" || m.Name == "Call") && call.Arguments.Length == 1 && Member(call.Instance, scope) is { } layer)
        {
            int x = Expr(call.Arguments[0].Value, scope);
            // new Sequential(a, b, ...): each item in turn, at this call.
            if (layer.Type is INamedTypeSymbol { Name: "Sequential" } && ForwardSyntax.IsKilnNN(layer.Type) && ListItems(layer) is { Count: > 0 } items)
            {
                foreach (var item in items) x = LayerCall(call, item, x, scope);
                return x;
            }
            return LayerCall(call, layer, x, scope);
        }
        // block.Forward(x, cos, sin, mask) on a [Model] block whose Forward takes several tensors: read through its body.
        if (m.Name == "Forward" && call.Arguments.Length > 1 && _inlineModels && Member(call.Instance, scope) is { } multi
            && ModelForward(multi.Type, scope, m) is { } several && InlineSeveral(call, multi, several, scope) is int inlined)
            return inlined;
        // A method of the module's own class (a helper, another Forward overload): its body read here, arguments bound.
        if (OwnMethod(call, scope) is { } own)
        {
            int first = _ir.Nodes.Count;
            bool saved = _stopped;
            var inner = scope.Inner(scope.Owner, scope.MemberPrefix, own.Semantics, scope.Type, scope.Settings);
            foreach (var a in call.Arguments)
                if (a.Parameter is not null) inner.Env[a.Parameter.OriginalDefinition] = Expr(a.Value, scope);
            int? returned = null;
            Statements(Single(own.Body), inner, ref returned);
            if (returned is int v && !_stopped) return v;
            _ir.Nodes.RemoveRange(first, _ir.Nodes.Count - first);
            _stopped = saved;
        }
        // Anything else: its receiver and arguments read, each operation's value kept for the passes.
        var operands = new Dictionary<IOperation, int>();
        var inputs = new List<int>();
        void Read(IOperation o)
        {
            int v = Expr(o, scope);
            operands[o] = v;
            inputs.Add(v);
        }
        var receiver = !m.IsStatic && ForwardSyntax.IsModule(call.Instance?.Type) ? Member(call.Instance, scope) : null;
        if (!m.IsStatic && call.Instance is not null && receiver is null) Read(call.Instance);
        foreach (var a in call.Arguments)
        {
            if (a.ArgumentKind == ArgumentKind.DefaultValue) continue;
            var value = a.Value.UnwrapConversions();
            var elements = value switch
            {
                IArrayCreationOperation { Initializer: { } init } => init.ElementValues,
                ICollectionExpressionOperation collection => collection.Elements,
                _ => default(ImmutableArray<IOperation>?),
            };
            if (elements is { } items && !items.IsEmpty && (a.ArgumentKind == ArgumentKind.ParamArray || !items.All(e => e.ConstantValue.HasValue)))
                foreach (var e in items) Read(e);
            else Read(a.Value);
        }
        var node = new ForwardNode(_ir.Nodes.Count, ForwardKind.Call, call, inputs.ToArray())
        { Layer = receiver, Name = m.Name, Owner = scope.Owner, Modes = _modes, Failure = $"the call to {m.ContainingType?.Name}.{m.Name}" };
        node.SetOperands(operands);
        return Add(node);
    }

    /// <summary>A layer applied to <paramref name="x"/>; a [Model] block read through its own Forward when the reader inlines.</summary>
    int LayerCall(IInvocationOperation call, LayerRef layer, int x, Scope scope)
    {
        // A [Model] block: its Forward read here (its layers through the accessors the generator gives it); a built-in
        // composite layer: its real Forward, from the source Kiln's build embedded, its settings from its creation. Either
        // fuses with the model around it; the call node says which nodes it was.
        var block = !_inlineModels ? null : ModelForward(layer.Type, scope) is { } model
            ? (model.Forward, Scope: scope.Inner(layer.Access, layer.Access + "." + GeneratedAccessor.Prefix, model.Semantics, model.Forward.ContainingType, null))
            : ComposedLayers.Forward(layer.Type, scope.Semantics.Compilation, _cancel) is { } composite
            ? (composite.Forward, Scope: scope.Inner(layer.Access, "", composite.Semantics, composite.Forward.ContainingType, layer))
            : default((IMethodSymbol Forward, Scope Scope)?);
        if (block is { } b)
        {
            int first = _ir.Nodes.Count;
            var saved = _stopped;
            int? value = Inline(b.Forward, b.Scope, x);
            if (value is int v && !_stopped)
                return Add(new ForwardNode(_ir.Nodes.Count, ForwardKind.LayerCall, call, new[] { x })
                { Layer = layer, Owner = scope.Owner, Modes = _modes, InlinedFrom = first, InlinedValue = v });
            // Not readable: forget what was read of it, the block is one call.
            _ir.Nodes.RemoveRange(first, _ir.Nodes.Count - first);
            _stopped = saved;
        }
        return Add(new ForwardNode(_ir.Nodes.Count, ForwardKind.LayerCall, call, new[] { x }) { Layer = layer, Owner = scope.Owner, Modes = _modes });
    }

    /// <summary>
    /// A [Model] block called with several tensors, its Forward read here with each parameter bound to its argument; the
    /// call node keeps the arguments as operands (the lowering runs the block as one eager call if its body cannot be fused).
    /// Null, with nothing read, when the body cannot be read.
    /// </summary>
    int? InlineSeveral(IInvocationOperation call, LayerRef layer, (IMethodSymbol Forward, SemanticModel Semantics) block, Scope scope)
    {
        int first = _ir.Nodes.Count;
        var saved = _stopped;
        var operands = new Dictionary<IOperation, int>();
        var args = new int[block.Forward.Parameters.Length];
        foreach (var a in call.Arguments)
        {
            if (a.Parameter is null) return Forget();
            int v = Expr(a.Value, scope);
            operands[a.Value] = v;
            args[a.Parameter.Ordinal] = v;
        }
        int body = _ir.Nodes.Count;
        int? value = Inline(block.Forward, scope.Inner(layer.Access, layer.Access + "." + GeneratedAccessor.Prefix, block.Semantics, block.Forward.ContainingType, null), args);
        if (value is not int result || _stopped) return Forget();
        var node = new ForwardNode(_ir.Nodes.Count, ForwardKind.LayerCall, call, args)
        { Layer = layer, Owner = scope.Owner, Modes = _modes, InlinedFrom = body, InlinedValue = result };
        node.SetOperands(operands);
        return Add(node);

        int? Forget()
        {
            _ir.Nodes.RemoveRange(first, _ir.Nodes.Count - first);
            _stopped = saved;
            return null;
        }
    }

    /// <summary>Reads a block's Forward in <paramref name="scope"/> with its parameters bound to <paramref name="args"/>; its value, or null.</summary>
    int? Inline(IMethodSymbol forward, Scope scope, params int[] args)
    {
        if (scope.Depth > 8 || Body(forward, scope.Semantics) is not { } operation) return null;
        for (int i = 0; i < args.Length; i++) scope.Env[forward.Parameters[i]] = args[i];
        int? returned = null;
        Statements(Single(operation), scope, ref returned);
        return returned;
    }

    /// <summary>
    /// The Forward of a [Model] block a module holds (a top-level partial class of this compilation), with its semantics:
    /// its one-tensor Forward, or the overload <paramref name="called"/> when every parameter of that one is a tensor.
    /// </summary>
    (IMethodSymbol Forward, SemanticModel Semantics)? ModelForward(ITypeSymbol type, Scope scope, IMethodSymbol? called = null)
    {
        if (scope.Depth > 8 || type is not INamedTypeSymbol { ContainingType: null } named || ForwardSyntax.IsKilnNN(named)
            || !named.GetAttributes().Any(a => a.AttributeClass?.Name == "ModelAttribute")
            || !named.DeclaringSyntaxReferences.Any(d => d.GetSyntax(_cancel) is ClassDeclarationSyntax c && c.Modifiers.Any(m => m.Text == "partial")))
            return null;
        var forward = named.GetMembers("Forward").OfType<IMethodSymbol>()
            .FirstOrDefault(f => (called is null ? f.Parameters.Length == 1 : SymbolEqualityComparer.Default.Equals(f, called.OriginalDefinition))
                && f.Parameters.All(p => ForwardSyntax.IsTensor(p.Type) && p.RefKind == RefKind.None) && ForwardSyntax.IsTensor(f.ReturnType) && !f.IsStatic);
        var tree = forward?.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree;
        if (forward is null || tree is null || !scope.Semantics.Compilation.ContainsSyntaxTree(tree)) return null;
        return (forward, tree == scope.Semantics.SyntaxTree ? scope.Semantics : scope.Semantics.Compilation.GetSemanticModel(tree));
    }

    /// <summary>The layers a ModuleList or Sequential was created with (an array or collection of <c>new</c> expressions), reached through its indexer.</summary>
    static List<LayerRef>? ListItems(LayerRef list)
    {
        if (list.Type is not INamedTypeSymbol { Name: "ModuleList" or "Sequential" } || list.Creation is null) return null;
        var items = new List<LayerRef>();
        foreach (var a in list.Creation.Arguments)
        {
            var elements = a.Value.UnwrapConversions() switch
            {
                IArrayCreationOperation { Initializer: { } init } => init.ElementValues,
                ICollectionExpressionOperation ce => ce.Elements,
                _ => default(ImmutableArray<IOperation>?),
            };
            if (elements is null) return null;
            foreach (var e in elements.Value)
            {
                if (e.UnwrapConversions() is not IObjectCreationOperation { Type: { } itemType } create) return null;
                items.Add(new LayerRef($"(({itemType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)}){list.Access}[{items.Count}])", itemType, create));
            }
        }
        return items;
    }

    /// <summary>The layer an expression names: a field or property of the module, or a loop variable over a ModuleList.</summary>
    LayerRef? Member(IOperation? instance, Scope scope)
    {
        instance = instance?.UnwrapConversions();
        if (instance is ILocalReferenceOperation local) return scope.Env.TryGetValue(local.Local, out var bound) ? bound as LayerRef : null;
        (ISymbol Symbol, string Name, ITypeSymbol Type)? member = instance switch
        {
            IFieldReferenceOperation { Instance: IInstanceReferenceOperation } f => (f.Field, f.Field.Name, f.Field.Type),
            IPropertyReferenceOperation { Instance: IInstanceReferenceOperation } p => (p.Property, p.Property.Name, p.Property.Type),
            _ => null,
        };
        if (member is not { } mb) return null;
        // A composite layer's members are reached from generated code through its public surface.
        if (scope.Settings is not null && mb.Symbol.DeclaredAccessibility != Accessibility.Public) return null;
        // An inlined block's layers are reached through its generated accessors, which exist for field types code outside it can name.
        if (scope.MemberPrefix.Length > 0 && !(GeneratedAccessor.CanExpose(mb.Type) && (mb.Symbol is IFieldSymbol { IsStatic: false, IsConst: false }
            || mb.Symbol is IPropertySymbol { IsStatic: false } prop && prop.ContainingType.GetMembers().OfType<IFieldSymbol>().Any(f => SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, prop)))))
            return null;
        var semantics = mb.Symbol.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree is { } tree && tree != scope.Semantics.SyntaxTree && scope.Semantics.Compilation.ContainsSyntaxTree(tree)
            ? scope.Semantics.Compilation.GetSemanticModel(tree) : scope.Semantics;
        string access = scope.MemberPrefix.Length == 0 ? scope.Owner + "." + mb.Name : scope.MemberPrefix + mb.Name;
        return new LayerRef(access, mb.Type, MemberCreation.Of(mb.Symbol, semantics));
    }

    /// <summary>The operation of a method's body (block or expression), or null when it has none in this compilation.</summary>
    IOperation? Body(IMethodSymbol method, SemanticModel semantics)
    {
        if (method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_cancel) is not MethodDeclarationSyntax declaration) return null;
        SyntaxNode? body = (SyntaxNode?)declaration.Body ?? declaration.ExpressionBody;
        if (body is null) return null;
        var model = body.SyntaxTree == semantics.SyntaxTree ? semantics
            : semantics.Compilation.ContainsSyntaxTree(body.SyntaxTree) ? semantics.Compilation.GetSemanticModel(body.SyntaxTree) : null;
        return model?.GetOperation(body, _cancel);
    }

    /// <summary>A call of a method of the module's own class that returns a tensor and has a body to read.</summary>
    (IOperation Body, SemanticModel Semantics)? OwnMethod(IInvocationOperation call, Scope scope)
    {
        var m = call.TargetMethod;
        if (scope.Depth > 8 || scope.Type is null || !SymbolEqualityComparer.Default.Equals(m.ContainingType, scope.Type) || !ForwardSyntax.IsTensor(m.ReturnType)
            || call.Instance is not (null or IInstanceReferenceOperation) || m.IsAbstract || m.IsVirtual && !m.IsOverride && !m.ContainingType.IsSealed)
            return null;
        var tree = m.DeclaringSyntaxReferences.FirstOrDefault()?.SyntaxTree;
        if (tree is null || !scope.Semantics.Compilation.ContainsSyntaxTree(tree)) return null;
        var semantics = tree == scope.Semantics.SyntaxTree ? scope.Semantics : scope.Semantics.Compilation.GetSemanticModel(tree);
        return Body(m, semantics) is { } body ? (body, semantics) : null;
    }

    /// <summary>A value known while reading (<see cref="Fold"/>).</summary>
    sealed class Known(object? value)
    {
        public object? Value { get; } = value;
    }

    /// <summary>
    /// The value of a non-tensor expression when the reader can know it: constants, arguments bound to constants, a
    /// composite layer's settings (read from its creation; each adds a <see cref="ForwardKind.Guard"/> the compiled model
    /// checks), and !, &amp;&amp;, ||, ==, != and <c>is null</c> over those. Null when it is not known.
    /// </summary>
    Known? Fold(IOperation op, Scope scope)
    {
        op = op.UnwrapConversions();
        if (op.ConstantValue.HasValue) return new Known(op.ConstantValue.Value);
        switch (op)
        {
            case IParenthesizedOperation p: return Fold(p.Operand, scope);
            case IParameterReferenceOperation p when scope.Env.TryGetValue(p.Parameter.OriginalDefinition, out var pv) && pv is int pi && _ir[pi].HasConstant:
                return new Known(_ir[pi].Constant);
            case ILocalReferenceOperation l when scope.Env.TryGetValue(l.Local, out var lv) && lv is int li && _ir[li].HasConstant:
                return new Known(_ir[li].Constant);
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Not } not when Fold(not.Operand, scope) is { Value: bool b }:
                return new Known(!b);
            case IIsPatternOperation { Pattern: IConstantPatternOperation { Value.ConstantValue: { HasValue: true, Value: null } } } isNull:
                return IsNull(isNull.Value, scope) is bool none ? new Known(none) : null;
            case IIsPatternOperation { Pattern: INegatedPatternOperation { Pattern: IConstantPatternOperation { Value.ConstantValue: { HasValue: true, Value: null } } } } notNull:
                return IsNull(notNull.Value, scope) is bool absent ? new Known(!absent) : null;
            case IBinaryOperation b when b.OperatorKind is BinaryOperatorKind.ConditionalAnd or BinaryOperatorKind.ConditionalOr:
            {
                bool and = b.OperatorKind == BinaryOperatorKind.ConditionalAnd;
                if (Fold(b.LeftOperand, scope) is not { Value: bool left }) return null;
                if (left != and) return new Known(left);   // false && _, true || _
                return Fold(b.RightOperand, scope) is { Value: bool right } ? new Known(right) : null;
            }
            case IBinaryOperation b when b.OperatorKind is BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals:
            {
                // x == null / x != null: as x is null.
                var other = b.RightOperand.UnwrapConversions().ConstantValue is { HasValue: true, Value: null } ? b.LeftOperand
                    : b.LeftOperand.UnwrapConversions().ConstantValue is { HasValue: true, Value: null } ? b.RightOperand : null;
                if (other is not null && IsNull(other, scope) is bool isNull) return new Known(isNull == (b.OperatorKind == BinaryOperatorKind.Equals));
                if (Fold(b.LeftOperand, scope) is not { } l || Fold(b.RightOperand, scope) is not { } r) return null;
                return new Known(Equals(l.Value, r.Value) == (b.OperatorKind == BinaryOperatorKind.Equals));
            }
            case IMemberReferenceOperation { Instance: IInstanceReferenceOperation } member and (IPropertyReferenceOperation or IFieldReferenceOperation)
                when scope.Settings is { } layer && Setting(member.Member, layer, scope) is { } setting:
                return setting;
            default:
                return null;
        }
    }

    /// <summary>
    /// Whether <paramref name="tested"/> is null, when the reader knows: a value it folds, or (for the generator) a
    /// parameter or local bound to one of Forward's inputs — a graph with that input runs only when it is given (calls
    /// without it take the graph read with it as null, or the eager Forward), so there it is not null.
    /// </summary>
    bool? IsNull(IOperation tested, Scope scope)
    {
        if (Fold(tested, scope) is { } known) return known.Value is null;
        var op = tested.UnwrapConversions();
        ISymbol? symbol = op switch { IParameterReferenceOperation p => p.Parameter.OriginalDefinition, ILocalReferenceOperation l => l.Local, _ => null };
        return _inlineModels && symbol is not null && scope.Env.TryGetValue(symbol, out var bound) && bound is int id && _ir[id].Kind == ForwardKind.Input ? false : null;
    }

    /// <summary>
    /// A composite layer's setting (a property or field its constructor assigns from a parameter) from the argument its
    /// creation passes (or the parameter's default); the compiled model checks the setting has that value.
    /// </summary>
    Known? Setting(ISymbol member, LayerRef layer, Scope scope)
    {
        if (layer.Creation is null) return null;
        foreach (var ctor in member.ContainingType.Constructors)
            foreach (var reference in ctor.DeclaringSyntaxReferences)
            {
                var tree = reference.SyntaxTree;
                if (!scope.Semantics.Compilation.ContainsSyntaxTree(tree)) continue;
                var semantics = tree == scope.Semantics.SyntaxTree ? scope.Semantics : scope.Semantics.Compilation.GetSemanticModel(tree);
                foreach (var node in reference.GetSyntax(_cancel).DescendantNodes().OfType<AssignmentExpressionSyntax>())
                {
                    if (semantics.GetOperation(node, _cancel) is not ISimpleAssignmentOperation { Target: IMemberReferenceOperation target } assign
                        || !SymbolEqualityComparer.Default.Equals(target.Member, member) || assign.Value.UnwrapConversions() is not IParameterReferenceOperation from)
                        continue;
                    // The creation was bound in the user's compilation: its arguments are matched by parameter name.
                    var argument = layer.Creation.Arguments.FirstOrDefault(a => a.Parameter?.Name == from.Parameter.Name);
                    if (argument is null || !argument.Value.UnwrapConversions().ConstantValue.HasValue) return null;
                    var value = argument.Value.UnwrapConversions().ConstantValue.Value;
                    if (Literal(value) is not { } text) return null;
                    Node(ForwardKind.Guard, null, System.Array.Empty<int>(), scope, name: $"{scope.Owner}.{member.Name} == {text}");
                    return new Known(value);
                }
            }
        return null;
    }

    static string? Literal(object? value) => value switch
    {
        bool b => b ? "true" : "false",
        string s => Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(s, quote: true),
        int i => i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture) + "L",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "d",
        _ => null,
    };
}
