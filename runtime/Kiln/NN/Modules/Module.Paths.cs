using System;

namespace Kiln.NN;

public abstract partial class Module
{
    /// <summary>The submodule at dotted <paramref name="path"/> (<c>get_submodule</c>); "" is this module.</summary>
    public Module GetSubmodule(string path)
    {
        Module m = this;
        if (path.Length == 0) return m;
        foreach (var part in path.Split('.'))
        {
            m.EnsureFields();
            if (!m._byName.TryGetValue(part, out var s) || s.Kind != SlotKind.Module || s.Value is not Module child)
                throw new KilnException("get_submodule", $"get_submodule: {m.GetType().Name} has no submodule '{part}' (path '{path}')");
            m = child;
        }
        return m;
    }

    /// <summary>
    /// Replaces the submodule at dotted <paramref name="path"/> with <paramref name="module"/> (<c>set_submodule</c>).
    /// A member held in a typed field or property accepts only a module of that type or a subclass — which is how
    /// adapters (LoRA, quantized layers) slip under models that call their layers directly.
    /// </summary>
    public void SetSubmodule(string path, Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        int dot = path.LastIndexOf('.');
        var parent = dot < 0 ? this : GetSubmodule(path[..dot]);
        string name = path[(dot + 1)..];
        parent.EnsureFields();
        if (!parent._byName.TryGetValue(name, out var s) || s.Kind != SlotKind.Module)
            throw new KilnException("set_submodule", $"set_submodule: {parent.GetType().Name} has no submodule '{name}' (path '{path}')");
        parent.OnSubmoduleReplacing(name, module);
        try { s.Value = module; }
        catch (ArgumentException)
        {
            throw new KilnException("set_submodule", $"set_submodule: '{path}' holds a {s.Value?.GetType().Name}; a {module.GetType().Name} cannot take its place");
        }
    }

    /// <summary>
    /// Replaces the parameter at dotted <paramref name="path"/> with <paramref name="value"/> (PyTorch's
    /// <c>setattr(module, name, nn.Parameter(...))</c>); the module's code sees the new tensor from then on.
    /// </summary>
    public void SetParameter(string path, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int dot = path.LastIndexOf('.');
        var owner = dot < 0 ? this : GetSubmodule(path[..dot]);
        string name = path[(dot + 1)..];
        owner.EnsureFields();
        if (!owner._byName.TryGetValue(name, out var s) || s.Kind != SlotKind.Parameter)
            throw new KilnException("set_parameter", $"set_parameter: {owner.GetType().Name} has no parameter '{name}' (path '{path}')");
        if (!value.IsLeaf)
            throw new KilnException("set_parameter", $"set_parameter: '{path}' must be a leaf tensor (use Detach())");
        s.Value = value;
    }

    /// <summary>Removes this module's member <paramref name="name"/> (<c>delattr</c>); false when there is none.</summary>
    protected bool Unregister(string name)
    {
        EnsureFields();
        if (!_byName.Remove(name, out var s)) return false;
        _slots.Remove(s);
        return true;
    }

    /// <summary>Called by <see cref="SetSubmodule"/> before this module's child <paramref name="name"/> is replaced; containers check the type and keep their lists in step.</summary>
    protected virtual void OnSubmoduleReplacing(string name, Module module) { }

    /// <summary>The registered child <paramref name="name"/> as <typeparamref name="T"/>; layers read children through it so a replaced child is seen.</summary>
    protected T Child<T>(string name) where T : Module => (T)Member(name)!;
}
