using System.Collections.Generic;

namespace Kiln.Peft;

/// <summary>The bookkeeping every LoRA layer shares: each adapter's rank and scale, the active and merged adapters, the off switch.</summary>
public sealed class LoraAdapters
{
    readonly Dictionary<string, (int Rank, double Scaling)> _adapters = new();
    readonly List<string> _order = new();

    /// <summary>Adapter names in the order they were added.</summary>
    public IReadOnlyList<string> Names => _order;
    /// <summary>The adapters whose updates the forward adds (PEFT's <c>active_adapters</c>).</summary>
    public IReadOnlyList<string> Active { get; internal set; } = new List<string>();
    /// <summary>Adapters folded into the base weight.</summary>
    public List<string> Merged { get; } = new();
    /// <summary>True while adapters are switched off (<c>disable_adapter()</c>): the base layer's output alone.</summary>
    public bool Disabled { get; internal set; }

    /// <summary>Rank of adapter <paramref name="name"/>.</summary>
    public int Rank(string name) => _adapters[name].Rank;
    /// <summary>Scale of adapter <paramref name="name"/> (alpha / r, or alpha / √r for rsLoRA).</summary>
    public double Scaling(string name) => _adapters[name].Scaling;
    /// <summary>True when adapter <paramref name="name"/> exists here.</summary>
    public bool Contains(string name) => _adapters.ContainsKey(name);

    /// <summary>Makes <paramref name="names"/> the adapters this layer adds (a layer's <c>set_adapter</c>; <see cref="PeftModel{TModel}.SetAdapter"/> does it for a whole model).</summary>
    public void SetActive(params string[] names)
    {
        foreach (var n in names)
            if (!_adapters.ContainsKey(n)) throw new KilnException("LoRA", $"LoRA: this layer has no adapter '{n}' (has: {string.Join(", ", _order)})");
        Active = names;
    }

    internal void Add(string name, int rank, double scaling)
    {
        if (!_adapters.ContainsKey(name)) _order.Add(name);
        _adapters[name] = (rank, scaling);
    }

    internal void Remove(string name) { _adapters.Remove(name); _order.Remove(name); }

    /// <summary>The adapters a forward adds now: none while disabled, the active ones not already merged.</summary>
    internal IEnumerable<string> Unmerged()
    {
        if (Disabled) yield break;
        foreach (var n in Active)
            if (_adapters.ContainsKey(n) && !Merged.Contains(n)) yield return n;
    }
}
