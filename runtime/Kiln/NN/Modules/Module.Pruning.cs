using System.Collections.Generic;
using Kiln.NN.Pruning;

namespace Kiln.NN;

// Pruned tensors (torch.nn.utils.prune): the parameter `name` becomes `name_orig`, its mask the buffer `name_mask`, and
// Member(name) computes orig · mask on each read — what PyTorch's forward pre-hook stores before every forward.
public abstract partial class Module
{
    Dictionary<string, PruningMethod>? _pruned;

    /// <summary>The pruned tensor <paramref name="name"/> computed now (orig · mask, recorded), or null when it is not pruned.</summary>
    Tensor? PrunedValue(string name) =>
        _pruned is not null && _pruned.ContainsKey(name) && _byName.TryGetValue(name + "_orig", out var orig) && _byName.TryGetValue(name + "_mask", out var mask)
            ? (Tensor)orig.Value! * (Tensor)mask.Value!
            : null;

    /// <summary>The pruning method (or container of methods) on <paramref name="name"/>, or null.</summary>
    internal PruningMethod? PruningOf(string name) => _pruned is not null && _pruned.TryGetValue(name, out var m) ? m : null;

    internal bool HasPruning => _pruned is { Count: > 0 };

    /// <summary>The mask of the pruned tensor <paramref name="name"/>, or null.</summary>
    internal Tensor? MaskOf(string name) => PruningOf(name) is null ? null : (Tensor)_byName[name + "_mask"].Value!;

    /// <summary>
    /// The tensor <paramref name="name"/> as pruning sees it: orig · mask when pruned already, else the registered
    /// parameter — checked to be one that can be pruned.
    /// </summary>
    internal Tensor TensorOf(string name, string op)
    {
        EnsureFields();
        if (PruningOf(name) is not null) return PrunedValue(name)!;
        if (IsParametrized(name))
            throw new KilnException(op, $"{op}: {GetType().Name}.{name} is parametrized; prune the parametrization's original instead", KilnErrorKind.Unsupported);
        if (!_byName.TryGetValue(name, out var slot) || slot.Kind != SlotKind.Parameter || slot.Value is not Tensor value)
            throw new KilnException(op, $"{op}: {GetType().Name} has no parameter named '{name}'", KilnErrorKind.Argument);
        if (!slot.IsRegistered)
            throw new KilnException(op, $"{op}: {GetType().Name}.{name} is read through a field of its class, so a pruned value would not be seen; only registered parameters (as built-in layers hold them) can be pruned", KilnErrorKind.Unsupported);
        if (_byName.ContainsKey(name + "_orig") || _byName.ContainsKey(name + "_mask"))
            throw new KilnException(op, $"{op}: {GetType().Name} already has a member named '{name}_orig' or '{name}_mask'", KilnErrorKind.Argument);
        return value;
    }

    /// <summary>
    /// Applies <paramref name="method"/> to the tensor <paramref name="name"/> (PyTorch's <c>BasePruningMethod.apply</c>):
    /// the first pruning moves the parameter to <c>name_orig</c>; later ones join a <see cref="PruningContainer"/> that
    /// prunes what is left. The mask is computed before anything changes, so a refused pruning leaves the module as it was.
    /// </summary>
    internal PruningMethod ApplyPruning(string op, string name, PruningMethod method, Tensor? importanceScores)
    {
        EnsureFields();
        var previous = PruningOf(name);
        Tensor current;
        using (Autograd.NoGrad()) current = TensorOf(name, op);

        var importance = importanceScores ?? current;
        if (!Compiler.Shapes.ShapeRules.SameShape(importance.ShapeArray, current.ShapeArray))
            throw new KilnException(op, $"{op}: importance_scores of shape {Compiler.Shapes.ShapeText.Format(importance.ShapeArray)} do not match {GetType().Name}.{name} of shape {Compiler.Shapes.ShapeText.Format(current.ShapeArray)}", KilnErrorKind.Shape);

        PruningMethod combined = method;
        if (previous is not null)
        {
            // A new container: the one in effect stays as it was if this mask is refused.
            var methods = new List<PruningMethod>(previous as PruningContainer ?? (IEnumerable<PruningMethod>)[previous]) { method };
            combined = new PruningContainer(methods.ToArray());
        }

        Tensor mask;
        using (Autograd.NoGrad())
        {
            using var defaultMask = previous is null ? Tensor.OnesLike(current) : ((Tensor)_byName[name + "_mask"].Value!).Contiguous();
            mask = combined.ComputeMask(importance, defaultMask).Contiguous();
        }
        if (!Compiler.Shapes.ShapeRules.SameShape(mask.ShapeArray, current.ShapeArray))
            throw new KilnException(op, $"{op}: {method.GetType().Name} computed a mask of shape {Compiler.Shapes.ShapeText.Format(mask.ShapeArray)} for {GetType().Name}.{name} of shape {Compiler.Shapes.ShapeText.Format(current.ShapeArray)}", KilnErrorKind.Shape);
        if (mask.DType != current.DType) mask = mask.To(current.DType);

        if (previous is null)
        {
            Unregister(name);
            RegisterParameter(name + "_orig", current);
        }
        RegisterBuffer(name + "_mask", mask);
        (_pruned ??= new())[name] = combined;
        return combined;
    }

    /// <summary>Makes the pruning of <paramref name="name"/> permanent (<c>prune.remove</c>): the parameter holds orig · mask again.</summary>
    internal void RemovePruning(string name)
    {
        const string op = "prune.remove";
        if (PruningOf(name) is null)
            throw new KilnException(op, $"{op}: parameter '{name}' of {GetType().Name} has to be pruned before pruning can be removed", KilnErrorKind.Argument);
        var orig = (Tensor)_byName[name + "_orig"].Value!;
        var mask = (Tensor)_byName[name + "_mask"].Value!;
        // The same tensor object keeps training (optimizers built on weight_orig go on updating it), as PyTorch's orig.data = weight.
        using (Autograd.NoGrad()) orig.Mul_(mask);
        _pruned!.Remove(name);
        Unregister(name + "_orig");
        Unregister(name + "_mask");
        RegisterParameter(name, orig);
    }
}
