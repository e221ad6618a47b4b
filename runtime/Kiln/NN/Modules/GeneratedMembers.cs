using System;
using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>
/// Members of a [Model] class as its generated code declares them (accessors instead of reflection). User code does
/// not call this: Kiln's source generator overrides <see cref="Module.RegisterGeneratedMembers"/> with it.
/// </summary>
public sealed class GeneratedMembers
{
    readonly HashSet<Type> _covered = new();
    internal readonly List<(string Name, SlotKind Kind, Func<object?> Get, Action<object?>? Set, bool Persistent, bool TrainableOnly)> Entries = new();

    /// <summary>Says that every member field declared by <paramref name="type"/> is registered here (reflection skips it).</summary>
    public void Covers(Type type) => _covered.Add(type);

    internal bool IsCovered(Type type) => _covered.Contains(type);

    /// <summary>A submodule field.</summary>
    public void Module(string name, Func<Module?> get, Action<Module?>? set = null) =>
        Entries.Add((name, SlotKind.Module, get, set is null ? null : v => set((Module?)v), true, false));

    /// <summary>A tensor field marked [Parameter], or (<paramref name="trainableOnly"/>) one that is a parameter when it requires grad.</summary>
    public void Parameter(string name, Func<Tensor?> get, Action<Tensor?>? set = null, bool trainableOnly = false) =>
        Entries.Add((name, SlotKind.Parameter, get, set is null ? null : v => set((Tensor?)v), true, trainableOnly));

    /// <summary>A tensor field marked [Buffer].</summary>
    public void Buffer(string name, Func<Tensor?> get, Action<Tensor?>? set = null, bool persistent = true) =>
        Entries.Add((name, SlotKind.Buffer, get, set is null ? null : v => set((Tensor?)v), persistent, false));
}
