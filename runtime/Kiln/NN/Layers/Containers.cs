using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace Kiln.NN;

/// <summary>Runs its modules in order, each one's output feeding the next (<c>nn.Sequential</c>); children are named 0, 1, 2, ...</summary>
public sealed class Sequential : Module<Tensor, Tensor>, IEnumerable<Module<Tensor, Tensor>>
{
    readonly List<Module<Tensor, Tensor>> _layers = new();

    /// <summary>A pipeline of <paramref name="modules"/>.</summary>
    public Sequential(params Module<Tensor, Tensor>[] modules) { foreach (var m in modules) Add(m); }

    /// <summary>A pipeline of named modules (PyTorch's OrderedDict form).</summary>
    public Sequential(params (string Name, Module<Tensor, Tensor> Module)[] modules)
    {
        foreach (var (name, m) in modules) { _layers.Add(m); RegisterModule(name, m); }
    }

    /// <summary>Appends a module.</summary>
    public void Add(Module<Tensor, Tensor> module) { RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module); _layers.Add(module); }

    /// <summary>The module at <paramref name="index"/> (negative counts from the end).</summary>
    public Module<Tensor, Tensor> this[int index] => _layers[index < 0 ? index + _layers.Count : index];

    /// <summary>Number of modules.</summary>
    public int Count => _layers.Count;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensor.Scope();   // each layer's output but the last goes when it returns
        foreach (var m in _layers) input = m.Call(input);
        return scope.Keep(input);
    }

    /// <inheritdoc/>
    public IEnumerator<Module<Tensor, Tensor>> GetEnumerator() => _layers.GetEnumerator();

    /// <inheritdoc/>
    protected override void OnSubmoduleReplacing(string name, Module module)
    {
        if (module is not Module<Tensor, Tensor> layer)
            throw new KilnException("set_submodule", $"set_submodule: Sequential layer '{name}' must take a tensor and return one; {module.GetType().Name} does not");
        int i = 0;
        foreach (var (n, _) in NamedChildren()) { if (n == name) { _layers[i] = layer; return; } i++; }
    }
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A list of submodules registered as 0, 1, 2, ... (<c>nn.ModuleList</c>).</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    readonly List<T> _items = new();

    /// <summary>A list holding <paramref name="modules"/>.</summary>
    public ModuleList(IEnumerable<T> modules) { foreach (var m in modules) Add(m); }

    /// <summary>A list holding <paramref name="modules"/>.</summary>
    public ModuleList(params T[] modules) : this((IEnumerable<T>)modules) { }

    /// <summary>Appends a module.</summary>
    public void Add(T module) { RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module); _items.Add(module); }

    /// <inheritdoc/>
    public T this[int index] => _items[index < 0 ? index + _items.Count : index];
    /// <inheritdoc/>
    public int Count => _items.Count;
    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    protected override void OnSubmoduleReplacing(string name, Module module) =>
        _items[int.Parse(name, System.Globalization.CultureInfo.InvariantCulture)] = module as T
            ?? throw new KilnException("set_submodule", $"set_submodule: ModuleList item {name} must be a {typeof(T).Name}, got {module.GetType().Name}");

    /// <inheritdoc/>
    protected override string TypeName => "ModuleList";
}

/// <summary>Submodules by name, in insertion order (<c>nn.ModuleDict</c>).</summary>
public sealed class ModuleDict<T> : Module, IEnumerable<KeyValuePair<string, T>> where T : Module
{
    readonly OrderedDictionary<string, T> _items = new();

    /// <summary>An empty dictionary.</summary>
    public ModuleDict() { }

    /// <summary>A dictionary of the given modules.</summary>
    public ModuleDict(params (string Name, T Module)[] modules) { foreach (var (k, m) in modules) this[k] = m; }

    /// <summary>Gets or sets the module named <paramref name="key"/>.</summary>
    public T this[string key]
    {
        get => _items.TryGetValue(key, out var m) ? m : throw new KilnException("ModuleDict", $"ModuleDict: no module named '{key}'");
        set { RegisterModule(key, value); _items[key] = value; }
    }

    /// <summary>Names in order.</summary>
    public IEnumerable<string> Keys => _items.Keys;
    /// <summary>Number of modules.</summary>
    public int Count => _items.Count;
    /// <summary>True if <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key) => _items.ContainsKey(key);
    /// <summary>Removes the module named <paramref name="key"/> (<c>del d[key]</c>); false when absent.</summary>
    public bool Remove(string key) => _items.Remove(key) && Unregister(key);
    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, T>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    protected override void OnSubmoduleReplacing(string name, Module module) =>
        _items[name] = module as T ?? throw new KilnException("set_submodule", $"set_submodule: ModuleDict entry '{name}' must be a {typeof(T).Name}, got {module.GetType().Name}");

    /// <inheritdoc/>
    protected override string TypeName => "ModuleDict";
}

/// <summary>Parameters in a list, registered as "0", "1", ... (<c>nn.ParameterList</c>).</summary>
public sealed class ParameterList : Module, IReadOnlyList<Tensor>
{
    readonly List<Tensor> _items = new();

    /// <summary>A list of <paramref name="parameters"/> (each made a parameter: detached, requiring grad).</summary>
    public ParameterList(IEnumerable<Tensor> parameters) { foreach (var p in parameters) Add(p); }

    /// <summary>A list of <paramref name="parameters"/>.</summary>
    public ParameterList(params Tensor[] parameters) : this((IEnumerable<Tensor>)parameters) { }

    /// <summary>Appends a parameter.</summary>
    public void Add(Tensor value)
    {
        var p = value.RequiresGrad && value.IsLeaf ? value : Parameter(value);
        RegisterParameter(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), p);
        _items.Add(p);
    }

    /// <inheritdoc/>
    public Tensor this[int index] => _items[index < 0 ? index + _items.Count : index];
    /// <inheritdoc/>
    public int Count => _items.Count;
    /// <inheritdoc/>
    public IEnumerator<Tensor> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    protected override string TypeName => "ParameterList";
    /// <inheritdoc/>
    public override string ExtraRepr() => ParameterLines(_items.Select((p, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), p)));

    /// <summary>PyTorch's lines for held parameters: <c>(0): Parameter containing: [torch.float32 of size 3x4]</c>.</summary>
    internal static string ParameterLines(IEnumerable<(string Key, Tensor Value)> items) =>
        string.Join("\n", items.Select(kv => $"({kv.Key}): Parameter containing: [torch.{kv.Value.DType.Name()} of size {string.Join("x", kv.Value.Shape)}]"));
}

/// <summary>Parameters by name, in insertion order (<c>nn.ParameterDict</c>).</summary>
public sealed class ParameterDict : Module, IEnumerable<KeyValuePair<string, Tensor>>
{
    readonly OrderedDictionary<string, Tensor> _items = new();

    /// <summary>An empty dictionary.</summary>
    public ParameterDict() { }

    /// <summary>A dictionary of the given parameters.</summary>
    public ParameterDict(params (string Name, Tensor Value)[] parameters) { foreach (var (k, v) in parameters) this[k] = v; }

    /// <summary>Gets or sets the parameter named <paramref name="key"/>.</summary>
    public Tensor this[string key]
    {
        get => _items.TryGetValue(key, out var p) ? p : throw new KilnException("ParameterDict", $"ParameterDict: no parameter named '{key}'");
        set
        {
            var p = value.RequiresGrad && value.IsLeaf ? value : Parameter(value);
            RegisterParameter(key, p);
            _items[key] = p;
        }
    }

    /// <summary>Removes the parameter named <paramref name="key"/>; false when absent.</summary>
    public bool Remove(string key) => _items.Remove(key) && Unregister(key);

    /// <summary>Number of parameters.</summary>
    public int Count => _items.Count;
    /// <summary>The names.</summary>
    public IEnumerable<string> Keys => _items.Keys;
    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    protected override string TypeName => "ParameterDict";
    /// <inheritdoc/>
    public override string ExtraRepr() => ParameterList.ParameterLines(_items.Select(kv => (kv.Key, kv.Value)));
}
