using System.Collections.Generic;
using System.Text;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

/// <summary>What <see cref="Module.LoadStateDict"/> could not match (<c>_IncompatibleKeys</c>).</summary>
/// <param name="MissingKeys">Keys the module has that the dictionary lacks.</param>
/// <param name="UnexpectedKeys">Keys in the dictionary the module does not have.</param>
public sealed record LoadStateDictResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys)
{
    /// <summary>PyTorch's text: <c>&lt;All keys matched successfully&gt;</c> or <c>_IncompatibleKeys(missing_keys=[...], unexpected_keys=[...])</c>.</summary>
    public override string ToString() => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0
        ? "<All keys matched successfully>"
        : $"_IncompatibleKeys(missing_keys={PyList(MissingKeys)}, unexpected_keys={PyList(UnexpectedKeys)})";

    static string PyList(IReadOnlyList<string> keys)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < keys.Count; i++) sb.Append(i == 0 ? "'" : ", '").Append(keys[i]).Append('\'');
        return sb.Append(']').ToString();
    }
}

public abstract partial class Module
{
    /// <summary>
    /// Parameters and persistent buffers by dotted name, in registration order (<c>state_dict</c>). Values share
    /// storage with the module and carry no autograd history.
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var d = new OrderedDictionary<string, Tensor>();
        foreach (var (key, t) in StateTensors()) d[key] = t.Detach();
        return d;
    }

    /// <summary>
    /// Copies values from <paramref name="stateDict"/> into this module's parameters and buffers (<c>load_state_dict</c>).
    /// Everything is checked before anything is written: a shape mismatch, or with <paramref name="strict"/> a missing or
    /// unexpected key, raises a <see cref="KilnException"/> listing every problem and leaves the module unchanged.
    /// </summary>
    public LoadStateDictResult LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        stateDict = WithWeightNormKeys(stateDict);
        var result = CheckStateDict(stateDict, strict);
        using (Autograd.NoGrad())
            foreach (var (key, target) in StateTensors())
                if (stateDict.TryGetValue(key, out var src)) target.Copy_(src);
        return result;
    }

    /// <summary>
    /// The checks of <see cref="LoadStateDict"/> without writing anything: the keys that would be missing and unexpected,
    /// or a <see cref="KilnException"/> listing every problem.
    /// </summary>
    public LoadStateDictResult CheckStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        stateDict = WithWeightNormKeys(stateDict);
        var targets = StateTensors();

        var missing = new List<string>();
        var unexpected = new List<string>();
        var errors = new List<string>();
        var known = new HashSet<string>();
        foreach (var (key, target) in targets)
        {
            known.Add(key);
            if (!stateDict.TryGetValue(key, out var src)) { missing.Add(key); continue; }
            if (!ShapeRules.SameShape(src.ShapeArray, target.ShapeArray))
                errors.Add($"size mismatch for {key}: copying a param with shape {ShapeText.Format(src.ShapeArray)} from checkpoint, the shape in current model is {ShapeText.Format(target.ShapeArray)}.");
            else if (src.DType.IsFloatingPoint() != target.DType.IsFloatingPoint())
                errors.Add($"dtype mismatch for {key}: copying a {src.DType} tensor into a {target.DType} one.");
        }
        foreach (var key in stateDict.Keys)
            if (!known.Contains(key)) unexpected.Add(key);
        if (strict)
        {
            if (unexpected.Count > 0) errors.Insert(0, "Unexpected key(s) in state_dict: " + Quote(unexpected) + ".");
            if (missing.Count > 0) errors.Insert(0, "Missing key(s) in state_dict: " + Quote(missing) + ".");
        }
        if (errors.Count > 0)
        {
            var sb = new StringBuilder($"Error(s) in loading state_dict for {TypeName}:");
            foreach (var e in errors) sb.Append("\n\t").Append(e);
            throw new KilnException("load_state_dict", sb.ToString());
        }
        return new LoadStateDictResult(missing, unexpected);
    }

    /// <summary>Each module's parameters, then its persistent buffers, module by module in tree order (PyTorch's state-dict order).</summary>
    List<(string Key, Tensor Target)> StateTensors()
    {
        var list = new List<(string, Tensor)>();
        foreach (var (prefix, m) in NamedModules())
            foreach (var kind in new[] { SlotKind.Parameter, SlotKind.Buffer })
                foreach (var s in m.Slots)
                    if (s.Kind == kind && s.Persistent && s.Value is Tensor t)
                        list.Add((Join(prefix, s.Name), t));
        return list;
    }

    static string Quote(List<string> keys)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < keys.Count; i++) sb.Append(i == 0 ? "" : ", ").Append('"').Append(keys[i]).Append('"');
        return sb.ToString();
    }

    /// <summary>
    /// <paramref name="stateDict"/> with the old hook-based weight norm's keys (<c>weight_g</c>, <c>weight_v</c>) renamed to
    /// a weight-norm parametrization's (<c>parametrizations.weight.original0/1</c>) where this module tree has one and the
    /// new keys are absent, as PyTorch 2 converts them on load; the same dictionary when nothing is renamed.
    /// </summary>
    IReadOnlyDictionary<string, Tensor> WithWeightNormKeys(IReadOnlyDictionary<string, Tensor> stateDict)
    {
        Dictionary<string, Tensor>? renamed = null;
        foreach (var (path, module) in NamedModules())
        {
            if (module._parametrized is null) continue;
            string prefix = path.Length == 0 ? "" : path + ".";
            foreach (var (name, list) in module._parametrized)
            {
                if (list.Parametrization is not WeightNormParametrization) continue;
                string g = prefix + name + "_g", v = prefix + name + "_v", to = prefix + "parametrizations." + name + ".original";
                if (!stateDict.ContainsKey(g) || !stateDict.ContainsKey(v) || stateDict.ContainsKey(to + "0")) continue;
                renamed ??= new Dictionary<string, Tensor>(stateDict);
                renamed.Remove(g, out var gv);
                renamed.Remove(v, out var vv);
                renamed[to + "0"] = gv!;
                renamed[to + "1"] = vv!;
            }
        }
        return renamed ?? stateDict;
    }
}
