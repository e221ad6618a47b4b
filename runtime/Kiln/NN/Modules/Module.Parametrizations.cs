using System.Collections.Generic;

namespace Kiln.NN;

// Parametrized tensors (torch.nn.utils.parametrize): the tensor's slot is replaced by a ParametrizationList under the
// child "parametrizations", and Member(name) computes the tensor from it.
public abstract partial class Module
{
    Dictionary<string, ParametrizationList>? _parametrized;

    /// <summary>The parametrized tensor <paramref name="name"/> computed now, or null when it is not parametrized.</summary>
    Tensor? ParametrizedValue(string name) =>
        _parametrized is not null && _parametrized.TryGetValue(name, out var list) ? list.Value : null;

    internal bool IsParametrized(string? name) =>
        _parametrized is not null && (name is null ? _parametrized.Count > 0 : _parametrized.ContainsKey(name));

    internal void Parametrize(string name, Parametrization parametrization)
    {
        const string op = "register_parametrization";
        EnsureFields();
        if (_parametrized?.ContainsKey(name) == true)
            throw new KilnException(op, $"{op}: {GetType().Name}.{name} is parametrized already; remove its parametrization first", KilnErrorKind.Argument);
        if (!_byName.TryGetValue(name, out var slot) || slot.Kind == SlotKind.Module || slot.Value is not Tensor value)
            throw new KilnException(op, $"{op}: {GetType().Name} has no parameter or buffer named '{name}'", KilnErrorKind.Argument);
        if (!slot.IsRegistered)
            throw new KilnException(op, $"{op}: {GetType().Name}.{name} is read through a field of its class, so a parametrization would not be seen; only registered members (as built-in layers hold them) can be parametrized", KilnErrorKind.Unsupported);
        var list = new ParametrizationList(parametrization, value, slot.Kind == SlotKind.Buffer);
        // Checked before anything changes: the computed tensor must be able to stand in for the original.
        using (Autograd.NoGrad())
        using (var computed = list.Value)
            if (!Compiler.Shapes.ShapeRules.SameShape(computed.ShapeArray, value.ShapeArray) || computed.DType != value.DType)
                throw new KilnException(op, $"{op}: {parametrization.GetType().Name} computes {computed.DType} {Compiler.Shapes.ShapeText.Format(computed.ShapeArray)} for {GetType().Name}.{name}, which is {value.DType} {Compiler.Shapes.ShapeText.Format(value.ShapeArray)}", KilnErrorKind.Shape);
        Unregister(name);
        var holder = Member("parametrizations") as ModuleDict<ParametrizationList> ?? RegisterModule("parametrizations", new ModuleDict<ParametrizationList>());
        holder[name] = list;
        (_parametrized ??= new())[name] = list;
    }

    internal void Unparametrize(string name, bool leaveParametrized)
    {
        const string op = "remove_parametrizations";
        if (_parametrized is null || !_parametrized.TryGetValue(name, out var list))
            throw new KilnException(op, $"{op}: {GetType().Name} does not have a parametrization on {name}", KilnErrorKind.Argument);
        var originals = list.Originals;
        if (!leaveParametrized && originals.Count != 1)
            throw new KilnException(op, $"{op}: cannot leave {GetType().Name}.{name} unparametrized: its parametrization has {originals.Count} originals", KilnErrorKind.Argument);
        Tensor plain;
        using (Autograd.NoGrad()) plain = leaveParametrized ? list.Value.Detach() : originals[0].Detach();
        bool trainable = originals[0].RequiresGrad;
        _parametrized.Remove(name);
        var holder = (ModuleDict<ParametrizationList>)Member("parametrizations")!;
        holder.Remove(name);
        if (holder.Count == 0) Unregister("parametrizations");
        if (list.WasBuffer) RegisterBuffer(name, plain);
        else RegisterParameter(name, trainable ? plain.RequiresGrad_() : plain);
    }
}
