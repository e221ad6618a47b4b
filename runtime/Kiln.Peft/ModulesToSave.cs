using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Peft;

/// <summary>
/// A module trained whole with an adapter (PEFT's <c>modules_to_save</c>): each adapter gets trainable copies of its
/// parameters, swapped into the module while that adapter is active; the originals come back while adapters are off.
/// Swapping parameters rather than wrapping the module keeps it usable under any typed field.
/// </summary>
internal sealed class ModulesToSave
{
    readonly List<(string Name, Tensor Tensor)> _original = new();
    readonly Dictionary<string, List<(string Name, Tensor Tensor)>> _copies = new();

    public ModulesToSave(string path, Module module)
    {
        Path = path; Module = module;
        foreach (var (n, p) in module.NamedParameters()) _original.Add((n, p));
    }

    public string Path { get; }
    public Module Module { get; }
    public IEnumerable<string> Adapters => _copies.Keys;

    public void AddAdapter(string adapter)
    {
        var copies = new List<(string, Tensor)>();
        using (Autograd.NoGrad())
            foreach (var (n, p) in _original) copies.Add((n, Module.Parameter(p.Clone())));
        _copies[adapter] = copies;
    }

    public void RemoveAdapter(string adapter) => _copies.Remove(adapter);

    public IReadOnlyList<(string Name, Tensor Tensor)> Tensors(string adapter) => _copies[adapter];

    public IReadOnlyList<(string Name, Tensor Tensor)> Originals => _original;

    /// <summary>Puts <paramref name="adapter"/>'s copies in the module, or the originals for null (or an adapter this module lacks).</summary>
    public void Activate(string? adapter)
    {
        var set = adapter is not null && _copies.TryGetValue(adapter, out var c) ? c : _original;
        foreach (var (n, t) in set) Module.SetParameter(n, t);
    }
}
