using System;
using System.Collections.Generic;
using Kiln.NN.Pruning;

namespace Kiln.NN;

/// <summary>
/// <c>torch.nn.utils.prune</c>: zero parts of a module's parameter through a mask. Pruning <c>weight</c> moves the
/// parameter to <c>weight_orig</c> (still trained), adds the buffer <c>weight_mask</c>, and the module reads
/// <c>weight</c> as their product from then on — the state dict holds both, under PyTorch's keys. Pruning the same
/// tensor again prunes what is left (a <see cref="PruningContainer"/>); <see cref="Remove"/> makes it permanent.
/// Built-in layers (Linear, the convolutions, Embedding, …) read their tensors so that a pruned one is seen; a tensor
/// a class reads through its own field cannot be pruned.
/// </summary>
/// <example>
/// <code>
/// Prune.L1Unstructured(model.Fc1, "weight", amount: 0.3);          // the 30 % smallest |w| are zero
/// Prune.LnStructured(model.Conv1, "weight", amount: 2, n: 2, dim: 0); // two output channels of least L2 norm
/// Prune.Remove(model.Fc1, "weight");                               // weight is a plain parameter again, zeros kept
/// </code>
/// </example>
public static class Prune
{
    /// <summary>Applies <paramref name="method"/> to <paramref name="module"/>'s parameter <paramref name="name"/> (<c>BasePruningMethod.apply</c>); returns the method now in effect (a container after the first).</summary>
    /// <param name="module">The module holding the parameter.</param>
    /// <param name="name">The parameter's local name, e.g. "weight".</param>
    /// <param name="method">The pruning method.</param>
    /// <param name="importanceScores">Scores in the parameter's shape to choose by, instead of the parameter itself.</param>
    /// <exception cref="KilnException">For a name that is not a registered parameter, scores of another shape, or an amount larger than the candidates; nothing changes then.</exception>
    public static PruningMethod Apply(Module module, string name, PruningMethod method, Tensor? importanceScores = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(method);
        return module.ApplyPruning("prune", name, method, importanceScores);
    }

    /// <summary>The pruned form with nothing pruned (<c>prune.identity</c>): a mask of ones.</summary>
    public static T Identity<T>(T module, string name) where T : Module =>
        Applied("identity", module, name, new IdentityPruning(), null);

    /// <summary>Prunes <paramref name="amount"/> entries chosen at random (<c>prune.random_unstructured</c>).</summary>
    /// <param name="module">The module holding the parameter.</param>
    /// <param name="name">The parameter's local name.</param>
    /// <param name="amount">A fraction (0.3) or a count (3) of the entries still kept.</param>
    /// <param name="generator">The generator to draw from; the default generator when null.</param>
    public static T RandomUnstructured<T>(T module, string name, PruningAmount amount, Generator? generator = null) where T : Module =>
        Applied("random_unstructured", module, name, new Pruning.RandomUnstructured(amount, generator), null);

    /// <summary>Prunes the <paramref name="amount"/> entries of smallest magnitude (<c>prune.l1_unstructured</c>).</summary>
    /// <param name="module">The module holding the parameter.</param>
    /// <param name="name">The parameter's local name.</param>
    /// <param name="amount">A fraction (0.3) or a count (3) of the entries still kept.</param>
    /// <param name="importanceScores">Scores to rank by instead of the parameter.</param>
    public static T L1Unstructured<T>(T module, string name, PruningAmount amount, Tensor? importanceScores = null) where T : Module =>
        Applied("l1_unstructured", module, name, new Pruning.L1Unstructured(amount), importanceScores);

    /// <summary>Prunes <paramref name="amount"/> slices along <paramref name="dim"/> chosen at random (<c>prune.random_structured</c>).</summary>
    /// <param name="module">The module holding the parameter.</param>
    /// <param name="name">The parameter's local name.</param>
    /// <param name="amount">A fraction or a count of the slices still kept.</param>
    /// <param name="dim">The dimension whose slices are pruned.</param>
    /// <param name="generator">The generator to draw from; the default generator when null.</param>
    public static T RandomStructured<T>(T module, string name, PruningAmount amount, int dim, Generator? generator = null) where T : Module =>
        Applied("random_structured", module, name, new Pruning.RandomStructured(amount, dim, generator), null);

    /// <summary>Prunes the <paramref name="amount"/> slices along <paramref name="dim"/> of smallest Lₙ norm (<c>prune.ln_structured</c>).</summary>
    /// <param name="module">The module holding the parameter.</param>
    /// <param name="name">The parameter's local name.</param>
    /// <param name="amount">A fraction or a count of the slices still kept.</param>
    /// <param name="n">The norm's order (1, 2, p, ±∞).</param>
    /// <param name="dim">The dimension whose slices are pruned (0: output channels of a Linear or Conv weight).</param>
    /// <param name="importanceScores">Scores to rank by instead of the parameter.</param>
    public static T LnStructured<T>(T module, string name, PruningAmount amount, double n, int dim, Tensor? importanceScores = null) where T : Module =>
        Applied("ln_structured", module, name, new Pruning.LnStructured(amount, n, dim), importanceScores);

    /// <summary>Prunes where <paramref name="mask"/> is 0 (<c>prune.custom_from_mask</c>).</summary>
    public static T CustomFromMask<T>(T module, string name, Tensor mask) where T : Module =>
        Applied("custom_from_mask", module, name, new Pruning.CustomFromMask(mask), null);

    /// <summary>
    /// Prunes across several parameters at once (<c>prune.global_unstructured</c>): <paramref name="method"/> (an
    /// unstructured method such as <see cref="Pruning.L1Unstructured"/>) ranks every entry of them together — entries
    /// already pruned excepted — and each parameter gets its share of the mask.
    /// </summary>
    /// <param name="parameters">(module, parameter name) pairs.</param>
    /// <param name="method">An unstructured method; its amount counts entries of all the parameters together.</param>
    /// <param name="importanceScores">Scores per pair, instead of the parameters' values, for some or all of them.</param>
    /// <exception cref="KilnException">For a method that is not unstructured, or scores of the wrong shape; nothing changes then.</exception>
    public static void GlobalUnstructured(IEnumerable<(Module Module, string Name)> parameters, PruningMethod method,
        IReadOnlyDictionary<(Module, string), Tensor>? importanceScores = null)
    {
        const string op = "global_unstructured";
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != PruningType.Unstructured)
            throw new KilnException(op, $"{op}: only unstructured pruning methods can prune globally; {method.GetType().Name} is {method.Type.ToString().ToLowerInvariant()}", KilnErrorKind.Argument);
        var pairs = new List<(Module Module, string Name)>(parameters);
        var values = new List<Tensor>(pairs.Count);
        var scores = new List<Tensor>(pairs.Count);
        var masks = new List<Tensor>(pairs.Count);
        Tensor finalMask;
        using (Autograd.NoGrad())
        {
            try
            {
                foreach (var (module, name) in pairs)
                {
                    var value = module.TensorOf(name, op);
                    values.Add(value);
                    Tensor? given = null;
                    if (importanceScores is not null && importanceScores.TryGetValue((module, name), out var s))
                    {
                        if (!Compiler.Shapes.ShapeRules.SameShape(s.ShapeArray, value.ShapeArray))
                            throw new KilnException(op, $"{op}: importance_scores for {module.GetType().Name}.{name} have shape {Compiler.Shapes.ShapeText.Format(s.ShapeArray)}, the parameter {Compiler.Shapes.ShapeText.Format(value.ShapeArray)}", KilnErrorKind.Shape);
                        given = s;
                    }
                    scores.Add((given ?? value).Reshape(-1));
                    if (module.MaskOf(name) is { } m) masks.Add(m.Reshape(-1));
                    else using (var ones = Tensor.OnesLike(value)) masks.Add(ones.Reshape(-1));
                }
                using var allScores = Tensor.Cat(scores.ToArray());
                using var allMasks = Tensor.Cat(masks.ToArray());
                finalMask = new PruningContainer(method).ComputeMask(allScores, allMasks);
            }
            finally
            {
                foreach (var t in scores) t.Dispose();
                foreach (var t in masks) t.Dispose();
            }
        }
        using (finalMask)
        {
            long offset = 0;
            for (int i = 0; i < pairs.Count; i++)
            {
                long n = values[i].Numel;
                using var piece = finalMask.Narrow(0, offset, (int)n);
                using var shaped = piece.Reshape(values[i].ShapeArray);
                pairs[i].Module.ApplyPruning(op, pairs[i].Name, new Pruning.CustomFromMask(shaped.Contiguous()), null);
                offset += n;
            }
        }
    }

    /// <summary>
    /// Makes the pruning of <paramref name="name"/> permanent (<c>prune.remove</c>): the parameter <paramref name="name"/>
    /// holds orig · mask, <c>name_orig</c> and <c>name_mask</c> are gone. The pruned entries stay zero until training moves them.
    /// </summary>
    /// <exception cref="KilnException">When <paramref name="name"/> is not pruned.</exception>
    public static T Remove<T>(T module, string name) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        module.RemovePruning(name);
        return module;
    }

    /// <summary>Whether <paramref name="module"/> or any submodule has a pruned tensor (<c>prune.is_pruned</c>).</summary>
    public static bool IsPruned(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        foreach (var m in module.Modules())
            if (m.HasPruning) return true;
        return false;
    }

    /// <summary>The method (or container) pruning <paramref name="module"/>'s <paramref name="name"/>, or null.</summary>
    public static PruningMethod? MethodOf(Module module, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.PruningOf(name);
    }

    static T Applied<T>(string op, T module, string name, PruningMethod method, Tensor? importanceScores) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        module.ApplyPruning(op, name, method, importanceScores);
        return module;
    }
}
