using System;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.Optim;

/// <summary>
/// The base of every optimizer (<c>torch.optim.Optimizer</c>): parameter groups with per-group options, per-parameter
/// state, <see cref="Step()"/>, <see cref="ZeroGrad"/> and state dicts. Each optimizer updates a group's parameters
/// with one fused kernel per parameter: every buffer is read and written once, with no temporaries.
/// </summary>
public abstract class Optimizer
{
    readonly List<ParamGroup> _groups = new();
    readonly Dictionary<string, double> _defaults;

    /// <summary>Per-parameter state buffers.</summary>
    private protected readonly Dictionary<Tensor, Dictionary<string, Tensor>> StateOf = new(ReferenceEqualityComparer.Instance);

    private protected Optimizer(string name, IEnumerable<ParamGroup> groups, Dictionary<string, double> defaults)
    {
        Name = name;
        _defaults = defaults;
        foreach (var (k, v) in defaults)
            if (v < 0 && k != "maximize") throw new KilnException(name, $"{name}: Invalid {k} value: {v}");
        foreach (var g in groups) AddParamGroup(g);
        if (_groups.Count == 0 || _groups.All(g => g.Params.Count == 0))
            throw new KilnException(name, $"{name}: optimizer got an empty parameter list");
    }

    /// <summary>The optimizer's name, used in messages.</summary>
    public string Name { get; }

    /// <summary>The parameter groups.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>Adds a group; options it does not set take the optimizer's defaults (<c>add_param_group</c>).</summary>
    public void AddParamGroup(ParamGroup group)
    {
        foreach (var p in group.Params)
        {
            if (!p.IsLeaf) throw new KilnException(Name, $"{Name}: can't optimize a non-leaf Tensor");
            if (!p.DType.IsFloatingPoint()) throw new KilnException(Name, $"{Name}: parameters must be floating point, got {p.DType}", KilnErrorKind.DType);
            foreach (var g in _groups)
                foreach (var q in g.Params)
                    if (ReferenceEquals(p, q)) throw new KilnException(Name, $"{Name}: some parameters appear in more than one parameter group");
        }
        foreach (var (k, v) in _defaults)
            if (!group.Has(k)) group[k] = v;
        foreach (var (k, v) in group.Options)
            if (v < 0 && k is "lr" or "eps" or "weight_decay" or "momentum")
                throw new KilnException(Name, $"{Name}: Invalid {k} value: {v}");
        Validate(group);
        _groups.Add(group);
    }

    /// <summary>Whether a saved state entry fits its parameter: a step count, or a buffer of the parameter's size.</summary>
    private protected virtual bool StateFits(string key, Tensor value, Tensor parameter) => key == "step" || value.Numel == parameter.Numel;

    /// <summary>Checks a group's options (after defaults are filled in).</summary>
    private protected virtual void Validate(ParamGroup group) { }

    /// <summary>Clears the gradients of every parameter; by default drops them (<c>set_to_none=True</c>).</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var g in _groups)
            foreach (var p in g.Params)
            {
                if (p.GradInternal is not { } grad) continue;
                if (setToNone) p.Grad = null;
                else grad.Zero_();
            }
    }

    /// <summary>Performs one update of every parameter that has a gradient.</summary>
    public void Step()
    {
        using var _ = Autograd.NoGrad();
        foreach (var g in _groups) StepGroup(g);
    }

    /// <summary>Re-evaluates the loss with <paramref name="closure"/> (which should zero gradients, compute the loss and call Backward), then steps.</summary>
    public virtual Tensor Step(Func<Tensor> closure)
    {
        Tensor loss;
        using (Autograd.EnableGrad()) loss = closure();
        Step();
        return loss;
    }

    /// <summary>Updates one group.</summary>
    private protected abstract void StepGroup(ParamGroup group);

    /// <summary>The state of <paramref name="p"/>, created on first use.</summary>
    private protected Dictionary<string, Tensor> State(Tensor p)
    {
        if (!StateOf.TryGetValue(p, out var s)) StateOf[p] = s = new Dictionary<string, Tensor>();
        return s;
    }

    /// <summary>A state buffer shaped like <paramref name="p"/>, created filled with <paramref name="fill"/>.</summary>
    private protected Tensor Buffer(Dictionary<string, Tensor> state, string name, Tensor p, double fill = 0)
    {
        if (!state.TryGetValue(name, out var b))
        {
            state[name] = b = Tensor.Full(p.ShapeArray, fill, p.DType, p.Device);
            TensorScope.Exempt(b); // optimizer state outlives the training step's scope
        }
        return b;
    }

    /// <summary>A 0-d float32 state value (ASGD's eta and mu, as PyTorch keeps them), created as <paramref name="initial"/>.</summary>
    private protected static Tensor ScalarState(Dictionary<string, Tensor> state, string name, double initial)
    {
        if (!state.TryGetValue(name, out var s))
        {
            state[name] = s = Tensor.Full([], initial, DType.Float32);
            TensorScope.Exempt(s);
        }
        return s;
    }

    /// <summary>Increments and returns the parameter's step count (kept as a float scalar tensor, as PyTorch does).</summary>
    private protected static double NextStep(Dictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("step", out var s))
        {
            state["step"] = s = Tensor.Scalar(0.0).To(DType.Float32);
            TensorScope.Exempt(s);
        }
        s.Add_(1.0);
        return s.Item<float>();
    }

    /// <summary>The optimizer's state (<c>state_dict</c>); buffers are copies.</summary>
    public OptimizerStateDict StateDict()
    {
        var d = new OptimizerStateDict();
        int index = 0;
        foreach (var g in _groups)
        {
            var ids = new int[g.Params.Count];
            for (int i = 0; i < ids.Length; i++, index++)
            {
                ids[i] = index;
                if (StateOf.TryGetValue(g.Params[i], out var s))
                    d.State[index] = s.ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
            }
            d.ParamGroups.Add((new Dictionary<string, double>(g.Options), ids));
        }
        return d;
    }

    /// <summary>Restores options and buffers saved by <see cref="StateDict"/>; the groups must have the same sizes (<c>load_state_dict</c>).</summary>
    public void LoadStateDict(OptimizerStateDict state)
    {
        CheckStateDict(state);
        var byIndex = new List<Tensor>();
        foreach (var g in _groups) byIndex.AddRange(g.Params);
        StateOf.Clear();
        foreach (var (idx, s) in state.State)
            StateOf[byIndex[idx]] = s.ToDictionary(kv => kv.Key, kv =>
            {
                var t = kv.Key == "step" ? kv.Value.Clone() : kv.Value.To(byIndex[idx].DType).Clone();
                TensorScope.Exempt(t);
                return t;
            });
        for (int i = 0; i < _groups.Count; i++)
            foreach (var (k, v) in state.ParamGroups[i].Options) _groups[i][k] = v;
    }

    /// <summary>
    /// Checks that <paramref name="state"/> fits this optimizer without changing anything: the same group count and sizes,
    /// every option this kind of optimizer has (a state saved by another optimizer, SGD's into Adam, is refused), and
    /// buffers shaped like their parameters.
    /// </summary>
    /// <exception cref="KilnException">Names the first mismatch.</exception>
    public void CheckStateDict(OptimizerStateDict state)
    {
        if (state.ParamGroups.Count != _groups.Count)
            throw new KilnException(Name, $"{Name}: loaded state dict has a different number of parameter groups ({state.ParamGroups.Count} vs {_groups.Count})");
        for (int i = 0; i < _groups.Count; i++)
            if (state.ParamGroups[i].Params.Length != _groups[i].Params.Count)
                throw new KilnException(Name, $"{Name}: loaded state dict contains a parameter group that doesn't match the size of optimizer's group {i} ({state.ParamGroups[i].Params.Length} vs {_groups[i].Params.Count})", KilnErrorKind.Shape);
        var byIndex = new List<Tensor>();
        foreach (var g in _groups) byIndex.AddRange(g.Params);
        foreach (var (idx, s) in state.State)
        {
            if (idx < 0 || idx >= byIndex.Count) throw new KilnException(Name, $"{Name}: state for parameter index {idx} but the optimizer has {byIndex.Count} parameters", KilnErrorKind.Index);
            foreach (var (k, t) in s)
                if (!StateFits(k, t, byIndex[idx]))
                    throw new KilnException(Name, $"{Name}: state '{k}' of parameter {idx} has shape [{string.Join(", ", t.Shape)}], the parameter has [{string.Join(", ", byIndex[idx].Shape)}]", KilnErrorKind.Shape);
        }
        for (int i = 0; i < _groups.Count; i++)
            foreach (var key in _defaults.Keys)
                if (!state.ParamGroups[i].Options.ContainsKey(key))
                    throw new KilnException(Name, $"{Name}: loaded state dict was not saved by a {Name} optimizer: its group {i} has no '{key}' option (options: {string.Join(", ", state.ParamGroups[i].Options.Keys)})", KilnErrorKind.Shape);
    }
}
