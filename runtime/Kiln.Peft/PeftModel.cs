using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Kiln.IO;
using Kiln.NN;
using Kiln.Transformers;

namespace Kiln.Peft;

/// <summary>
/// A model with LoRA adapters injected (PEFT's <c>PeftModel</c> over a <c>LoraModel</c>). <see cref="Model"/> is the
/// base model itself, changed in place: its targeted layers became <see cref="ILoraLayer"/>s, its own parameters are
/// frozen — train it, generate with it, pass it to a <c>Trainer</c> as it is. Adapters are named; one is active at a time,
/// and they can be switched off, merged into the weights, saved and loaded in PEFT's folder layout.
/// </summary>
public sealed class PeftModel<TModel> where TModel : Module
{
    readonly Dictionary<string, LoraConfig> _configs = new();
    readonly List<ModulesToSave> _saved = new();

    internal PeftModel(TModel model) => Model = model;

    /// <summary>The base model with the adapters in it.</summary>
    public TModel Model { get; }
    /// <summary>Each adapter's config by name (<c>peft_config</c>).</summary>
    public IReadOnlyDictionary<string, LoraConfig> PeftConfig => _configs;
    /// <summary>The adapter the forward uses (<c>active_adapter</c>).</summary>
    public string ActiveAdapter { get; private set; } = "default";

    /// <summary>Every LoRA layer with its dotted path in <see cref="Model"/>.</summary>
    public IReadOnlyList<(string Path, ILoraLayer Layer)> LoraLayers =>
        Model.NamedModules().Where(x => x.Module is ILoraLayer).Select(x => (x.Name, (ILoraLayer)x.Module)).ToList();

    /// <summary>
    /// Injects adapter <paramref name="name"/> described by <paramref name="config"/>: each target layer becomes (or, if
    /// already, gains) a LoRA layer, modules to save get trainable copies. The new adapter does not become active —
    /// call <see cref="SetAdapter"/> (<c>add_adapter</c>).
    /// </summary>
    public void AddAdapter(string name, LoraConfig config)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_configs.ContainsKey(name)) throw new KilnException("PeftModel", $"PeftModel: an adapter named '{name}' already exists");
        if (config.TargetModules is null && config.TargetModulesRegex is null)
            throw new KilnException("PeftModel", "PeftModel: LoraConfig needs target_modules (TargetModules or TargetModulesRegex)");
        var targets = new List<(string Path, Module Module)>();
        var inside = new List<string>();
        foreach (var (path, m) in Model.NamedModules())
        {
            if (path.Length == 0 || inside.Exists(p => path.StartsWith(p + ".", StringComparison.Ordinal))) continue;
            if (m is ILoraLayer) inside.Add(path);
            if (!config.IsTarget(path)) continue;
            if (m is not (Linear or Embedding or Conv1D or Conv2d))
                throw new KilnException("PeftModel", $"PeftModel: target module '{path}' is a {m.GetType().Name}; LoRA supports Linear, Embedding, Conv1D and Conv2d");
            targets.Add((path, m));
        }
        if (targets.Count == 0)
        {
            string wanted = config.TargetModulesRegex ?? "[" + string.Join(", ", config.TargetModules!) + "]";
            throw new KilnException("PeftModel", $"PeftModel: target modules {wanted} not found in the base model ({Model.GetType().Name})");
        }
        _configs[name] = config;
        foreach (var (path, m) in targets)
        {
            var layer = m as ILoraLayer ?? Wrap(path, m, config);
            int r = config.RankFor(path);
            double alpha = config.AlphaFor(path);
            layer.AddAdapter(name, r, config.UseRslora ? alpha / Math.Sqrt(r) : alpha / r, config.LoraDropout, config.InitLoraWeights);
        }
        foreach (var target in config.ModulesToSave ?? [])
            foreach (var (path, m) in Model.NamedModules().ToList())
                if (path == target || path.EndsWith("." + target, StringComparison.Ordinal))
                {
                    var entry = _saved.Find(s => s.Path == path);
                    if (entry is null) _saved.Add(entry = new ModulesToSave(path, m));
                    entry.AddAdapter(name);
                }
        ApplyTrainable();
    }

    ILoraLayer Wrap(string path, Module m, LoraConfig config)
    {
        if (m is Conv1D && !config.FanInFanOut)
            Console.Error.WriteLine($"PeftModel: '{path}' is a Conv1D (weight [in, out]) but fan_in_fan_out is False; treating it as fan_in_fan_out, as PEFT does.");
        Module wrapped = m switch
        {
            Linear l => new LoraLinear(l),
            Embedding e => new LoraEmbedding(e),
            Conv1D c => new LoraConv1D(c),
            Conv2d c => new LoraConv2d(c),
            _ => throw new InvalidOperationException(),
        };
        wrapped.Train(m.Training);
        Model.SetSubmodule(path, wrapped);
        return (ILoraLayer)wrapped;
    }

    /// <summary>Makes <paramref name="name"/> the adapter the forward uses; only its tensors train (<c>set_adapter</c>).</summary>
    public void SetAdapter(string name)
    {
        if (!_configs.ContainsKey(name)) throw new KilnException("PeftModel", $"PeftModel: no adapter named '{name}' (have: {string.Join(", ", _configs.Keys)})");
        ActiveAdapter = name;
        foreach (var (_, l) in LoraLayers) l.Lora.Active = l.Lora.Contains(name) ? [name] : [];
        foreach (var s in _saved) s.Activate(name);
        ApplyTrainable();
    }

    /// <summary>Removes adapter <paramref name="name"/> everywhere (<c>delete_adapter</c>); it must not be merged.</summary>
    public void DeleteAdapter(string name)
    {
        if (!_configs.Remove(name)) throw new KilnException("PeftModel", $"PeftModel: no adapter named '{name}'");
        foreach (var (_, l) in LoraLayers)
            if (l.Lora.Contains(name))
            {
                if (l.Lora.Merged.Contains(name)) throw new KilnException("PeftModel", $"PeftModel: adapter '{name}' is merged; unmerge it before deleting");
                l.RemoveAdapter(name);
            }
        foreach (var s in _saved) s.RemoveAdapter(name);
        if (ActiveAdapter == name && _configs.Count > 0) SetAdapter(_configs.Keys.First());
    }

    /// <summary>
    /// Switches every adapter off until the returned handle is disposed (<c>with model.disable_adapter():</c>): the
    /// base model's own outputs. Merged adapters are unmerged first.
    /// </summary>
    public IDisposable DisableAdapter()
    {
        UnmergeAdapter();
        foreach (var (_, l) in LoraLayers) l.Lora.Disabled = true;
        foreach (var s in _saved) s.Activate(null);
        return new Restore(() =>
        {
            foreach (var (_, l) in LoraLayers) l.Lora.Disabled = false;
            foreach (var s in _saved) s.Activate(ActiveAdapter);
        });
    }

    sealed class Restore(Action action) : IDisposable
    {
        Action? _action = action;
        public void Dispose() { _action?.Invoke(); _action = null; }
    }

    /// <summary>Folds the active adapter into the base weights (<c>merge_adapter</c>): the same outputs, no extra products per forward.</summary>
    public void MergeAdapter()
    {
        foreach (var (_, l) in LoraLayers) LoraMath.Merge(l);
    }

    /// <summary>Takes merged adapters back out of the base weights (<c>unmerge_adapter</c>).</summary>
    public void UnmergeAdapter()
    {
        foreach (var (_, l) in LoraLayers) LoraMath.Unmerge(l);
    }

    /// <summary>
    /// Merges the active adapter and puts the original layers back (<c>merge_and_unload</c>): a plain model whose weights
    /// include the adapter. The modules to save keep the active adapter's trained copies.
    /// </summary>
    public TModel MergeAndUnload()
    {
        MergeAdapter();
        return Unload();
    }

    /// <summary>Puts the original layers back without merging (<c>unload</c>): the base model as it was, adapters gone.</summary>
    public TModel Unload()
    {
        foreach (var (path, l) in LoraLayers)
        {
            if (l.Lora.Merged.Count == 0) LoraMath.Unmerge(l);
            l.BaseLayer.Train(((Module)l).Training);
            Model.SetSubmodule(path, l.BaseLayer);
        }
        foreach (var s in _saved) if (!s.Adapters.Contains(ActiveAdapter)) s.Activate(null);
        _saved.Clear();
        _configs.Clear();
        return Model;
    }

    /// <summary>Trainable and total parameter counts (<c>get_nb_trainable_parameters</c>).</summary>
    public (long Trainable, long All) GetNbTrainableParameters()
    {
        long trainable = 0, all = 0;
        var counted = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (_, p) in Model.NamedParameters()) Count(p);
        // The originals and inactive copies of modules to save are parameters too (PEFT keeps them all registered).
        foreach (var s in _saved)
        {
            foreach (var (_, t) in s.Originals) Count(t);
            foreach (var a in s.Adapters)
                foreach (var (_, t) in s.Tensors(a)) Count(t);
        }

        void Count(Tensor t)
        {
            if (!counted.Add(t)) return;
            // A 4-bit weight packs two parameters per byte (PEFT counts bitsandbytes' Params4bit the same way).
            long n = t.DType == DType.UInt8 ? 2 * t.Numel : t.Numel;
            all += n;
            if (t.RequiresGrad) trainable += n;
        }
        return (trainable, all);
    }

    /// <summary>Prints and returns PEFT's line: <c>trainable params: 896 || all params: 22,624 || trainable%: 3.9604</c>.</summary>
    public string PrintTrainableParameters() => ParameterLine.Print(GetNbTrainableParameters());

    /// <summary>
    /// Freezes the base model and unfreezes what the active adapter trains (PEFT's <c>_mark_only_adapters_as_trainable</c>):
    /// its LoRA matrices, the biases its config names, its copies of modules to save. Adapters loaded for inference stay frozen.
    /// </summary>
    void ApplyTrainable()
    {
        foreach (var p in Model.Parameters()) p.RequiresGrad_(false);
        if (!_configs.TryGetValue(ActiveAdapter, out var config) || config.InferenceMode) return;
        foreach (var (_, l) in LoraLayers)
        {
            if (!l.Lora.Contains(ActiveAdapter)) continue;
            foreach (var (_, t) in l.AdapterTensors(ActiveAdapter)) t.RequiresGrad_(true);
            if (config.Bias == LoraBias.LoraOnly) l.BaseBias?.RequiresGrad_(true);
        }
        if (config.Bias == LoraBias.All)
            foreach (var (n, p) in Model.NamedParameters())
                if (n.EndsWith("bias", StringComparison.Ordinal)) p.RequiresGrad_(true);
        foreach (var s in _saved)
            if (s.Adapters.Contains(ActiveAdapter))
                foreach (var (_, t) in s.Tensors(ActiveAdapter)) t.RequiresGrad_(true);
    }

    /// <summary>
    /// Writes each adapter in PEFT's layout (<c>save_pretrained</c>): adapter_config.json and adapter_model.safetensors,
    /// the default adapter in <paramref name="directory"/>, any other in a subfolder named after it.
    /// </summary>
    public void SavePretrained(string directory, IEnumerable<string>? adapters = null)
    {
        foreach (var name in adapters ?? _configs.Keys)
        {
            if (!_configs.TryGetValue(name, out var config)) throw new KilnException("PeftModel", $"PeftModel: no adapter named '{name}'");
            AdapterKeys.Write(name == "default" ? directory : Path.Combine(directory, name), AdapterStateDict(name), config.Save);
        }
    }

    /// <summary>Adapter <paramref name="name"/>'s tensors under PEFT's keys (<c>get_peft_model_state_dict</c>).</summary>
    public OrderedDictionary<string, Tensor> AdapterStateDict(string name = "default")
    {
        if (!_configs.TryGetValue(name, out var config)) throw new KilnException("PeftModel", $"PeftModel: no adapter named '{name}'");
        var d = new OrderedDictionary<string, Tensor>();
        bool saveEmbeddings = config.TargetModules?.Any(t => AdapterKeys.EmbeddingLayerNames.Contains(t)) == true;
        foreach (var (path, l) in LoraLayers)
        {
            if (!l.Lora.Contains(name)) continue;
            foreach (var (suffix, t) in l.AdapterTensors(name)) d[AdapterKeys.Key(path, suffix)] = t;
            if (config.Bias != LoraBias.None && l.BaseBias is { } b) d[AdapterKeys.Key(path, "base_layer.bias")] = b;
            if (saveEmbeddings && AdapterKeys.EmbeddingLayerNames.Contains(path.Split('.')[^1])) d[AdapterKeys.Key(path, "base_layer.weight")] = l.BaseWeight;
        }
        if (config.Bias == LoraBias.All)
            foreach (var (n, p) in Model.NamedParameters())
                if (n.EndsWith("bias", StringComparison.Ordinal) && !d.Values.Contains(p)) d[AdapterKeys.Key("", n)] = p;
        foreach (var s in _saved)
            if (s.Adapters.Contains(name))
                foreach (var (n, t) in s.Tensors(name)) d[AdapterKeys.Key(s.Path, n)] = t;
        return d;
    }

    /// <summary>
    /// Reads the adapter in <paramref name="directory"/> (PEFT's files) as <paramref name="name"/> (<c>load_adapter</c>):
    /// every tensor must find its place with its shape, every adapter tensor must be there — else a clear error naming
    /// the keys, and the model is left as it was. Loaded adapters are frozen unless <paramref name="isTrainable"/>.
    /// </summary>
    public void LoadAdapter(string directory, string name = "default", bool isTrainable = false)
    {
        string configPath = Path.Combine(directory, AdapterKeys.ConfigFile), weightsPath = Path.Combine(directory, AdapterKeys.WeightsFile);
        var config = LoraConfig.FromFile(configPath) with { InferenceMode = !isTrainable };
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"PeftModel: {weightsPath} not found (PEFT's adapter weights)", weightsPath);
        var tensors = SafeTensors.Load(weightsPath);
        AddAdapter(name, config);
        try
        {
            var expected = AdapterStateDict(name);
            var missing = expected.Keys.Where(k => !tensors.ContainsKey(k) && !k.EndsWith("base_layer.weight", StringComparison.Ordinal)).ToList();
            var unexpected = tensors.Keys.Where(k => !expected.ContainsKey(k)).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new KilnException("PeftModel", $"PeftModel: adapter {weightsPath} does not fit {Model.GetType().Name}" +
                    (missing.Count > 0 ? $"; missing keys: {string.Join(", ", missing)}" : "") +
                    (unexpected.Count > 0 ? $"; unexpected keys: {string.Join(", ", unexpected)}" : ""));
            foreach (var (k, target) in expected)
            {
                if (!tensors.TryGetValue(k, out var source)) continue;
                if (!source.Shape.SequenceEqual(target.Shape))
                    throw new KilnException("PeftModel", $"PeftModel: {k} in {weightsPath} has shape [{string.Join(", ", source.Shape)}], the model expects [{string.Join(", ", target.Shape)}]", KilnErrorKind.Shape);
            }
            using (Autograd.NoGrad())
                foreach (var (k, target) in expected)
                    if (tensors.TryGetValue(k, out var source)) target.Copy_(source.To(target.DType));
        }
        catch
        {
            DeleteAdapter(name);
            throw;
        }
        if (_configs.Count == 1 || name == ActiveAdapter) SetAdapter(name);
    }
}
