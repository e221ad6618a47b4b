using System;
using System.Collections.Generic;
using Kiln.Compiler.Ops;

namespace Kiln;

public sealed partial class Tensor
{
    bool _requiresGrad;
    List<Func<Tensor, Tensor?>>? _hooks;
    List<Action<Tensor>>? _postAccumulateHooks;

    /// <summary>Whether gradients flow to this tensor (<c>requires_grad</c>). Only floating tensors may require them.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad || GradFn != null;
        set => RequiresGrad_(value);
    }

    Tensor? _grad;
    // Whether anyone outside Kiln's engine and optimizers has read or set the gradient (and so may still hold it).
    bool _gradSeen;

    /// <summary>
    /// The accumulated gradient of a leaf (or of a tensor that called <see cref="RetainGrad"/>); null until a backward
    /// reaches it. Setting it — to null, as <c>ZeroGrad()</c> does — returns the previous gradient's memory to the
    /// allocator at once when only Kiln ever touched that gradient (a training loop then reuses the same blocks every
    /// step, as PyTorch's reference counting does); a gradient you have read is left to the garbage collector.
    /// </summary>
    public Tensor? Grad
    {
        get
        {
            if (_grad is not null) _gradSeen = true;
            return _grad;
        }
        set
        {
            ReplaceGrad(value);
            _gradSeen = value is not null;
        }
    }

    /// <summary>The gradient as Kiln's own code reads it (engine, optimizers, clipping): such reads never keep it.</summary>
    internal Tensor? GradInternal => _grad;

    /// <summary>
    /// Stores a gradient the engine made; <paramref name="shared"/> when something else may hold it (a hook saw it, or it
    /// is part of a graph). The previous gradient is not released: during a backward the tensor it took over may still
    /// be read by another branch of the graph.
    /// </summary>
    internal void SetGradInternal(Tensor? grad, bool shared)
    {
        _grad = grad;
        _gradSeen = shared;
    }

    void ReplaceGrad(Tensor? grad)
    {
        var old = _grad;
        _grad = grad;
        if (old is not null && !ReferenceEquals(old, grad) && !_gradSeen) old.Dispose();
    }

    /// <summary>The node that produced this tensor in the autograd graph (<c>grad_fn</c>); null for leaves.</summary>
    public GradNode? GradFn { get; internal set; }

    /// <summary>True for tensors the user created (no <see cref="GradFn"/>).</summary>
    public bool IsLeaf => GradFn == null;

    /// <summary>True when this non-leaf keeps its gradient in <see cref="Grad"/>.</summary>
    public bool RetainsGrad { get; private set; }

    internal List<Func<Tensor, Tensor?>>? Hooks => _hooks;
    internal List<Action<Tensor>>? PostAccumulateHooks => _postAccumulateHooks;

    /// <summary>Sets whether this leaf requires gradients (<c>requires_grad_</c>).</summary>
    public Tensor RequiresGrad_(bool requiresGrad = true)
    {
        if (GradFn != null && !requiresGrad)
            throw new KilnException("requires_grad_", "requires_grad_: you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use Detach().", KilnErrorKind.State);
        if (requiresGrad && !DType.IsFloatingPoint())
            throw new KilnException("requires_grad_", $"requires_grad_: only Tensors of floating point dtype can require gradients, got {DType}", KilnErrorKind.State);
        _requiresGrad = requiresGrad;
        return this;
    }

    /// <summary>Keeps the gradient of this non-leaf in <see cref="Grad"/> during backward (<c>retain_grad</c>).</summary>
    public Tensor RetainGrad()
    {
        if (!RequiresGrad) throw new KilnException("retain_grad", "retain_grad: can't retain_grad on Tensor that has requires_grad=False", KilnErrorKind.State);
        if (GradFn != null) { RetainsGrad = true; GradFn.HookOwner = this; }
        return this;
    }

    /// <summary>Registers a hook called with this tensor's gradient; returning a tensor replaces the gradient. Dispose the handle to remove it.</summary>
    public IDisposable RegisterHook(Func<Tensor, Tensor?> hook)
    {
        if (!RequiresGrad) throw new KilnException("register_hook", "register_hook: cannot register a hook on a tensor that doesn't require gradient");
        (_hooks ??= new()).Add(hook);
        if (GradFn != null) GradFn.HookOwner = this;
        return new HookHandle(this, hook);
    }

    /// <summary>
    /// Registers a hook called with this leaf after a backward pass has accumulated into its <see cref="Grad"/>
    /// (<c>register_post_accumulate_grad_hook</c>: the gradient is final for this pass). Dispose the handle to remove it.
    /// </summary>
    public IDisposable RegisterPostAccumulateGradHook(Action<Tensor> hook)
    {
        if (!RequiresGrad || GradFn != null)
            throw new KilnException("register_post_accumulate_grad_hook", "register_post_accumulate_grad_hook: only leaf tensors that require grad accumulate gradients", KilnErrorKind.State);
        (_postAccumulateHooks ??= new()).Add(hook);
        return new ActionHandle(() => _postAccumulateHooks?.Remove(hook));
    }

    sealed class ActionHandle(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }

    sealed class HookHandle(Tensor owner, Func<Tensor, Tensor?> hook) : IDisposable
    {
        public void Dispose() => owner._hooks?.Remove(hook);
    }

    /// <summary>The same data, cut from the graph (<c>detach</c>).</summary>
    public Tensor Detach() => AsStrided(_shape, _strides, _offset);

    /// <summary>Backward from a scalar: accumulates d(this)/d(leaf) into every leaf's <see cref="Grad"/>.</summary>
    public void Backward() => Backward(null, false);

    /// <summary>Backward with an explicit output gradient (required for non-scalars).</summary>
    public void Backward(Tensor? gradient, bool retainGraph = false, bool createGraph = false) =>
        AutogradEngine.Run(new[] { this }, gradient is null ? null : new[] { gradient }, retainGraph, createGraph, null, false);

    /// <summary>
    /// A traced input of an exporter (integer token ids): ops reading it, or values derived from it, are recorded while
    /// <see cref="GradMode.Tracing"/>.
    /// </summary>
    internal bool TraceInput { get; set; }

    /// <summary>Whether an op reading <paramref name="t"/> is recorded: it requires grad, or it is traced while tracing.</summary>
    static bool Recorded(Tensor? t) => t is not null && (t.RequiresGrad || (t.TraceInput && GradMode.Tracing));

    /// <summary>Attaches a graph node to an op's result when grad mode is on and an input requires grad (or is traced).</summary>
    internal static Tensor Record(string op, Tensor result, OpArgs? args, Tensor a)
    {
        if (!GradMode.Enabled || !Recorded(a)) return result;
        return Attach(op, result, args, new Tensor?[] { a });
    }

    internal static Tensor Record(string op, Tensor result, OpArgs? args, Tensor a, Tensor? b)
    {
        if (!GradMode.Enabled || !(Recorded(a) || Recorded(b))) return result;
        return Attach(op, result, args, new Tensor?[] { a, b });
    }

    internal static Tensor Record(string op, Tensor result, OpArgs? args, Tensor? a, Tensor? b, Tensor? c)
    {
        if (!GradMode.Enabled || !(Recorded(a) || Recorded(b) || Recorded(c))) return result;
        return Attach(op, result, args, new Tensor?[] { a, b, c });
    }

    internal static Tensor RecordMany(string op, Tensor result, OpArgs? args, IReadOnlyList<Tensor?> inputs)
    {
        if (!GradMode.Enabled) return result;
        bool any = false;
        foreach (var t in inputs) any |= Recorded(t);
        if (!any) return result;
        var arr = new Tensor?[inputs.Count];
        for (int i = 0; i < arr.Length; i++) arr[i] = inputs[i];
        return Attach(op, result, args, arr);
    }

    /// <summary>Attaches a node with a user-defined backward (see Autograd.Function).</summary>
    internal static Tensor RecordFunction(string name, Tensor output, IReadOnlyList<Tensor?> inputs, Func<Tensor, Tensor?[]> backward, FunctionContext context)
    {
        var result = RecordMany(name, output, null, inputs);
        if (result.GradFn is { } node && node.Op == name && ReferenceEquals(result, output)) { node.Custom = backward; node.Context = context; }
        return result;
    }

    static Tensor Attach(string op, Tensor result, OpArgs? args, Tensor?[] inputs)
    {
        if (!result.DType.IsFloatingPoint() && !GradMode.Tracing) return result; // integer and bool results carry no gradient (an exporter records them)
        result.GradFn = new GradNode(op, args, inputs, result);
        return result;
    }
}
