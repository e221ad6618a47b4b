using System;
using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>
/// The base of every layer and model (<c>torch.nn.Module</c>): named parameters, buffers and submodules,
/// train/eval mode, state dicts, device and dtype moves, hooks and PyTorch-style printing.
/// </summary>
/// <remarks>
/// Built-in layers register their members explicitly with PyTorch's names. A user's model needs no
/// registration: fields holding modules, and tensor fields that require gradients (or carry
/// <see cref="ParameterAttribute"/> / <see cref="BufferAttribute"/>), are found by reflection the first time the
/// module is enumerated, named after the field.
/// </remarks>
public abstract partial class Module
{
    readonly List<Slot> _slots = new();
    readonly Dictionary<string, Slot> _byName = new();
    bool _fieldsScanned;

    /// <summary>True in training mode (the default); <see cref="Eval"/> clears it.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Wraps <paramref name="data"/> as a trainable parameter (<c>nn.Parameter</c>): a detached leaf that requires gradients.</summary>
    public static Tensor Parameter(Tensor data) => data.Detach().RequiresGrad_();

    /// <summary>Adds or replaces the parameter <paramref name="name"/> (<c>register_parameter</c>); null registers an absent one (e.g. no bias).</summary>
    protected Tensor? RegisterParameter(string name, Tensor? value)
    {
        if (value != null && !value.IsLeaf)
            throw new KilnException("register_parameter", $"{GetType().Name}: cannot assign non-leaf tensor to parameter '{name}'; parameters must be leaves (use Detach())");
        Put(new Slot(name, SlotKind.Parameter, value));
        if (value is not null) TensorScope.Exempt(value);   // module state outlives any scope it was made or replaced in
        return value;
    }

    /// <summary>Adds or replaces the buffer <paramref name="name"/> (<c>register_buffer</c>); non-persistent buffers stay out of the state dict.</summary>
    protected Tensor? RegisterBuffer(string name, Tensor? value, bool persistent = true)
    {
        Put(new Slot(name, SlotKind.Buffer, value) { Persistent = persistent });
        // Module state outlives any scope it was made or replaced in (spectral norm replaces its vectors each forward).
        if (value is not null) TensorScope.Exempt(value);
        return value;
    }

    /// <summary>Adds or replaces the submodule <paramref name="name"/> (<c>add_module</c>).</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module?
    {
        Put(new Slot(name, SlotKind.Module, module));
        return module;
    }

    void Put(Slot slot)
    {
        if (string.IsNullOrEmpty(slot.Name) || slot.Name.Contains('.'))
            throw new KilnException("register", $"{GetType().Name}: member name \"{slot.Name}\" must be non-empty and contain no '.'");
        if (_byName.TryGetValue(slot.Name, out var old))
        {
            if (old.Kind != slot.Kind)
                throw new KilnException("register", $"{GetType().Name}: attribute '{slot.Name}' is already registered as a {old.Kind.ToString().ToLowerInvariant()}");
            _slots[_slots.IndexOf(old)] = slot;
        }
        else _slots.Add(slot);
        _byName[slot.Name] = slot;
    }

    /// <summary>The registered member <paramref name="name"/> of this module (parameter, buffer or submodule), or null.</summary>
    protected object? Member(string name)
    {
        EnsureFields();
        return _byName.TryGetValue(name, out var s) ? s.Value : ParametrizedValue(name) ?? PrunedValue(name);
    }

    /// <summary>A registered parameter or buffer of this module by its local name.</summary>
    protected Tensor? TensorMember(string name) => Member(name) as Tensor;

    internal IReadOnlyList<Slot> Slots { get { EnsureFields(); return _slots; } }

    // ---- enumeration -------------------------------------------------------------------------------

    /// <summary>Direct submodules with their names (<c>named_children</c>).</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        foreach (var s in Slots)
            if (s.Kind == SlotKind.Module && s.Value is Module m) yield return (s.Name, m);
    }

    /// <summary>Direct submodules (<c>children</c>).</summary>
    public IEnumerable<Module> Children()
    {
        foreach (var (_, m) in NamedChildren()) yield return m;
    }

    /// <summary>This module and every submodule, depth first, each once, with dotted names (<c>named_modules</c>).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        return Walk(this, prefix, seen);

        static IEnumerable<(string, Module)> Walk(Module m, string prefix, HashSet<Module> seen)
        {
            if (!seen.Add(m)) yield break;
            yield return (prefix, m);
            foreach (var (name, child) in m.NamedChildren())
                foreach (var x in Walk(child, Join(prefix, name), seen)) yield return x;
        }
    }

    /// <summary>This module and every submodule (<c>modules</c>).</summary>
    public IEnumerable<Module> Modules()
    {
        foreach (var (_, m) in NamedModules()) yield return m;
    }

    /// <summary>Every parameter with its dotted name, shared parameters once (<c>named_parameters</c>).</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters(bool recurse = true) => NamedTensors(SlotKind.Parameter, recurse, false);

    /// <summary>Every parameter (<c>parameters</c>), in registration order.</summary>
    public IEnumerable<Tensor> Parameters(bool recurse = true)
    {
        foreach (var (_, p) in NamedParameters(recurse)) yield return p;
    }

    /// <summary>Every buffer with its dotted name (<c>named_buffers</c>).</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool recurse = true) => NamedTensors(SlotKind.Buffer, recurse, false);

    /// <summary>Every buffer (<c>buffers</c>).</summary>
    public IEnumerable<Tensor> Buffers(bool recurse = true)
    {
        foreach (var (_, b) in NamedBuffers(recurse)) yield return b;
    }

    IEnumerable<(string, Tensor)> NamedTensors(SlotKind kind, bool recurse, bool persistentOnly)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var modules = recurse ? NamedModules() : new[] { ("", this) };
        foreach (var (prefix, m) in modules)
            foreach (var s in m.Slots)
                if (s.Kind == kind && s.Value is Tensor t && (!persistentOnly || s.Persistent) && seen.Add(t))
                    yield return (Join(prefix, s.Name), t);
    }

    internal static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    // ---- modes and bulk operations ------------------------------------------------------------------

    /// <summary>Sets training mode on this module and every submodule (<c>train</c>).</summary>
    public Module Train(bool mode = true)
    {
        foreach (var m in Modules()) m.Training = mode;
        return this;
    }

    /// <summary>Sets evaluation mode (<c>eval</c>): dropout off, batch norm uses running statistics.</summary>
    public Module Eval() => Train(false);

    /// <summary>Calls <paramref name="fn"/> on every submodule, children first, then on this module (<c>apply</c>).</summary>
    public Module Apply(Action<Module> fn)
    {
        foreach (var c in Children()) c.Apply(fn);
        fn(this);
        return this;
    }

    /// <summary>Clears parameter gradients; by default drops them (<c>set_to_none=True</c>), otherwise zero-fills them.</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters())
        {
            if (p.GradInternal is not { } grad) continue;
            if (setToNone) p.Grad = null;
            else grad.Zero_();
        }
    }

    /// <summary>Turns gradient tracking of every parameter on or off (freezing, <c>requires_grad_</c>).</summary>
    public Module RequiresGrad_(bool requiresGrad = true)
    {
        foreach (var p in Parameters()) p.RequiresGrad_(requiresGrad);
        return this;
    }

    // module.to(...) is the extension ModuleConversions.To, which hands back the module's own type for chaining.
    internal void ConvertTo(DType dtype)
    {
        if (!dtype.IsFloatingPoint())
            throw new KilnException("Module.to", $"Module.to only accepts floating point dtypes, but got desired dtype={dtype}", KilnErrorKind.DType);
        Convert(t => t.DType.IsFloatingPoint() && t.DType != dtype ? t.To(dtype) : null);
    }

    internal void MoveTo(Device device) => Convert(t => t.Device.Equals(device) ? null : t.To(device));

    Module Convert(Func<Tensor, Tensor?> fn)
    {
        using var _ = Autograd.NoGrad();
        var done = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var m in Modules())
            foreach (var s in m.Slots)
            {
                if (s.Kind == SlotKind.Module || s.Value is not Tensor t || !done.Add(t)) continue;
                var converted = fn(t);
                if (converted == null) continue;
                // Same tensor object, new data: optimizers built on these parameters keep working.
                t.SetData(converted);
                if (t.Grad is { } g && fn(g) is { } cg) t.Grad = cg;
            }
        return this;
    }
}
