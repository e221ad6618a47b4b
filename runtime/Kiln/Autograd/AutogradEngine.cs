using System;
using System.Collections.Generic;
using Kiln.Compiler.Autodiff;

namespace Kiln;

/// <summary>
/// Reverse-mode execution: counts each node's consumers, then runs nodes in dependency order (latest
/// recorded first among the ready ones) with an explicit queue, so graphs of any depth need no recursion.
/// Saved tensors are dropped as soon as their node ran, unless the graph is retained.
/// </summary>
internal static class AutogradEngine
{
    /// <summary>
    /// Backpropagates from <paramref name="roots"/>. With <paramref name="captureInputs"/> the gradients of
    /// those tensors are returned instead of accumulated into leaves (<c>Autograd.Grad</c>).
    /// </summary>
    public static Tensor?[]? Run(IReadOnlyList<Tensor> roots, IReadOnlyList<Tensor?>? gradients, bool retainGraph, bool createGraph,
        IReadOnlyList<Tensor>? captureInputs, bool allowUnused)
    {
        Tensor?[]? result;
        try { result = RunGraph(roots, gradients, retainGraph, createGraph, captureInputs, allowUnused); }
        catch
        {
            Autograd.DropQueuedCallbacks();
            throw;
        }
        // What was queued during this pass (Autograd.QueueCallback: distributed gradient sync) runs once it is done.
        if (captureInputs is null) Autograd.RunQueuedCallbacks();
        return result;
    }

    static Tensor?[]? RunGraph(IReadOnlyList<Tensor> roots, IReadOnlyList<Tensor?>? gradients, bool retainGraph, bool createGraph,
        IReadOnlyList<Tensor>? captureInputs, bool allowUnused)
    {
        var pending = new Dictionary<GradNode, Tensor>(ReferenceEqualityComparer.Instance);
        var leafCapture = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        var nodeCapture = new Dictionary<GradNode, int>(ReferenceEqualityComparer.Instance);
        Tensor?[]? captured = captureInputs is null ? null : new Tensor?[captureInputs.Count];
        if (captureInputs != null)
            for (int i = 0; i < captureInputs.Count; i++)
            {
                var t = captureInputs[i];
                if (!t.RequiresGrad) throw new KilnException("grad", $"grad: input {i} does not require grad");
                if (t.GradFn != null) nodeCapture[t.GradFn] = i; else leafCapture[t] = i;
            }

        using var mode = GradMode.Set(createGraph);
        var seeds = new List<(Tensor root, Tensor grad)>();
        var notStealable = new HashSet<Tensor>(ReferenceEqualityComparer.Instance); // user seeds and gradients already handed out
        for (int i = 0; i < roots.Count; i++)
        {
            var root = roots[i];
            if (!root.RequiresGrad)
                throw new KilnException("backward", $"element {i} of tensors does not require grad and does not have a grad_fn", KilnErrorKind.State);
            Tensor seed;
            if (gradients is null || gradients[i] is null)
            {
                if (root.Numel != 1)
                    throw new KilnException("backward", $"grad can be implicitly created only for scalar outputs (the output has shape [{string.Join(", ", root.Shape)}])", KilnErrorKind.Shape);
                seed = Tensor.OnesLike(root);
            }
            else
            {
                seed = gradients[i]!;
                notStealable.Add(seed);
                if (!Compiler.Shapes.ShapeRules.SameShape(seed.ShapeArray, root.ShapeArray))
                    throw new KilnException("backward", $"backward: mismatch in shape: grad_output has shape [{string.Join(", ", seed.Shape)}] and output has shape [{string.Join(", ", root.Shape)}]", KilnErrorKind.State);
            }
            seeds.Add((root, seed));
        }

        // Dependency counts over the reachable graph (iterative DFS).
        var deps = new Dictionary<GradNode, int>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<GradNode>();
        foreach (var (root, _) in seeds)
            if (root.GradFn is { } n && !deps.ContainsKey(n)) { deps[n] = 0; stack.Push(n); }
        // Leaves with post-accumulate hooks: how many edges reach each, so the hook runs once, when the last has delivered.
        Dictionary<Tensor, (int Left, bool Delivered)>? hookedLeaves = null;
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            for (int i = 0; i < n.InputCount; i++)
            {
                if (captured is null && n.NextLeaf(i) is { PostAccumulateHooks.Count: > 0 } hooked)
                {
                    hookedLeaves ??= new(ReferenceEqualityComparer.Instance);
                    hookedLeaves[hooked] = (hookedLeaves.GetValueOrDefault(hooked).Left + 1, false);
                }
                var next = n.NextNode(i);
                if (next is null) continue;
                if (deps.TryGetValue(next, out int d)) deps[next] = d + 1;
                else { deps[next] = 1; stack.Push(next); }
            }
        }

        var ready = new PriorityQueue<GradNode, long>();
        foreach (var (root, grad) in seeds)
        {
            if (root.GradFn is null)
            {
                DeliverToLeaf(root, grad, createGraph, leafCapture, captured, notStealable);
                if (captured is null) RunPostAccumulateHooks(root);
                continue;
            }
            Accumulate(pending, root.GradFn, grad);
        }
        foreach (var (root, _) in seeds)
            if (root.GradFn is { } n && deps[n] == 0 && !InQueue(ready, n)) ready.Enqueue(n, -n.Sequence);

        while (ready.Count > 0)
        {
            var node = ready.Dequeue();
            if (!pending.Remove(node, out var grad))
            {
                // No gradient reached this node: its inputs get none either, but their counts still drop.
                for (int i = 0; i < node.InputCount; i++)
                {
                    if (node.NextNode(i) is { } next && --deps[next] == 0) ready.Enqueue(next, -next.Sequence);
                    if (hookedLeaves is not null && node.NextLeaf(i) is { } skipped) LeafEdgeDone(hookedLeaves, skipped, delivered: false);
                }
                continue;
            }
            grad = RunHooks(node.HookOwner, grad);
            if (node.HookOwner is { RetainsGrad: true } owner) owner.Grad = owner.Grad is null ? grad.Detach() : owner.Grad + grad;
            if (nodeCapture.TryGetValue(node, out int ci)) captured![ci] = captured[ci] is null ? grad : captured[ci]! + grad;

            var inputGrads = node.Custom is { } custom ? CustomGrads(node, custom, grad) : Derivatives.Backward(node.Op, TensorAlgebra.Instance, node, grad);
            if (GradMode.Anomaly) CheckAnomaly(node, inputGrads);
            for (int i = 0; i < inputGrads.Length; i++)
            {
                var g = inputGrads[i];
                if (g != null && g.DType != node.InputDType(i)) g = g.To(node.InputDType(i)); // mixed-dtype ops
                if (node.NextLeaf(i) is { } leaf)
                {
                    if (g != null) DeliverToLeaf(leaf, g, createGraph, leafCapture, captured, notStealable);
                    if (hookedLeaves is not null) LeafEdgeDone(hookedLeaves, leaf, g != null);
                }
                else if (node.NextNode(i) is { } next)
                {
                    if (g != null) Accumulate(pending, next, g);
                    if (--deps[next] == 0) ready.Enqueue(next, -next.Sequence);
                }
            }
            if (!retainGraph) node.Release();
        }

        if (captured != null && !allowUnused)
            for (int i = 0; i < captured.Length; i++)
                if (captured[i] is null)
                    throw new KilnException("grad", $"grad: one of the differentiated Tensors (input {i}) appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.", KilnErrorKind.State);
        return captured;
    }

    /// <summary>Runs a user-defined backward and checks that it returned one gradient per input, each of its input's shape.</summary>
    static Tensor?[] CustomGrads(GradNode node, Func<Tensor, Tensor?[]> backward, Tensor grad)
    {
        var grads = backward(grad) ?? throw new KilnException(node.Op, $"{node.Name}: backward returned null; return one gradient (or null) per input", KilnErrorKind.State);
        if (grads.Length != node.InputCount)
            throw new KilnException(node.Op, $"{node.Name}: backward returned {grads.Length} gradients for {node.InputCount} inputs", KilnErrorKind.State);
        for (int i = 0; i < grads.Length; i++)
            if (grads[i] is { } g && !Compiler.Shapes.ShapeRules.SameShape(g.ShapeArray, ((Compiler.Autodiff.IGradContext<Tensor>)node).InputShape(i)))
                throw new KilnException(node.Op, $"{node.Name}: backward returned a gradient of shape {Compiler.Shapes.ShapeText.Format(g.ShapeArray)} for input {i} of shape {Compiler.Shapes.ShapeText.Format(((Compiler.Autodiff.IGradContext<Tensor>)node).InputShape(i))}", KilnErrorKind.State);
        return grads;
    }

    static bool InQueue(PriorityQueue<GradNode, long> q, GradNode n)
    {
        foreach (var (e, _) in q.UnorderedItems) if (ReferenceEquals(e, n)) return true;
        return false;
    }

    static void Accumulate(Dictionary<GradNode, Tensor> pending, GradNode node, Tensor g) =>
        pending[node] = pending.TryGetValue(node, out var have) ? have + g : g;

    static Tensor RunHooks(Tensor? owner, Tensor grad)
    {
        if (owner?.Hooks is not { Count: > 0 } hooks) return grad;
        foreach (var hook in hooks.ToArray())
            if (hook(grad) is { } replaced) grad = replaced;
        return grad;
    }

    static void DeliverToLeaf(Tensor leaf, Tensor g, bool createGraph, Dictionary<Tensor, int> capture, Tensor?[]? captured, HashSet<Tensor> notStealable)
    {
        g = RunHooks(leaf, g);
        if (captured != null)
        {
            if (capture.TryGetValue(leaf, out int i)) captured[i] = captured[i] is null ? g : captured[i]! + g;
            return; // Autograd.Grad never touches .Grad
        }
        if (!Compiler.Shapes.ShapeRules.SameShape(g.ShapeArray, leaf.ShapeArray)) g = g.Expand(leaf.ShapeArray);
        // The first gradient is kept as is when nothing else can see it (contiguous, sole owner of its storage,
        // not a user seed, not handed to another leaf); otherwise it is copied, since it may alias other data.
        bool stealable = g.IsContiguous && g.Storage.RefCount == 1 && g.GradFn is null && notStealable.Add(g);
        // A gradient that is part of a graph (createGraph) or that a hook saw may be held elsewhere: never released early.
        bool shared = createGraph || leaf.Hooks is { Count: > 0 };
        var old = leaf.GradInternal;
        if (old is null) leaf.SetGradInternal(createGraph || stealable ? g : g.Clone(), shared);
        else leaf.SetGradInternal(createGraph ? old + g : AddNoGrad(old, g), shared);
        TensorScope.Exempt(leaf.GradInternal!);
    }

    /// <summary>
    /// One edge into a hooked leaf has been processed; after the last, the leaf's post-accumulate hooks run (if any
    /// gradient arrived this pass). A leaf the graph reaches through several ops thus sees its hooks once, with the sum.
    /// </summary>
    static void LeafEdgeDone(Dictionary<Tensor, (int Left, bool Delivered)> remaining, Tensor leaf, bool delivered)
    {
        if (!remaining.TryGetValue(leaf, out var state)) return;
        state = (state.Left - 1, state.Delivered || delivered);
        if (state.Left > 0) { remaining[leaf] = state; return; }
        remaining.Remove(leaf);
        if (state.Delivered) RunPostAccumulateHooks(leaf);
    }

    static void RunPostAccumulateHooks(Tensor leaf)
    {
        if (leaf.PostAccumulateHooks is { Count: > 0 } after)
            foreach (var hook in after.ToArray()) hook(leaf);
    }

    static Tensor AddNoGrad(Tensor a, Tensor b)
    {
        using var off = GradMode.Set(false);
        return a + b;
    }

    static void CheckAnomaly(GradNode node, Tensor?[] grads)
    {
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i] is not { } g || !g.DType.IsFloatingPoint()) continue;
            using var off = GradMode.Set(false);
            using var bad = g.Ne(g).Any();       // NaN
            using var inf = g.Abs().Eq(double.PositiveInfinity).Any();
            if (bad.Item<bool>() || inf.Item<bool>())
                throw new KilnException(node.Op,
                    $"Function '{node.Name}' returned {(bad.Item<bool>() ? "nan" : "inf")} values in its {i}th output; the forward op that created it was '{node.Op}'.");
        }
    }
}
