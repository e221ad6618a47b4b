using System;
using System.Collections.Generic;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.Distributed;

/// <summary>
/// ZeRO stage 3 (<c>torch.distributed.fsdp.FullyShardedDataParallel</c>, sharding whole parameters): each parameter is
/// owned by one rank, which alone keeps its data, its gradient and its optimizer state; the other ranks free it. The
/// model is split into units (by default the root's direct <see cref="Module{TIn, TOut}"/> children that hold
/// parameters; the root's own parameters form one more unit): a unit's parameters are gathered from their owners just
/// before its forward and freed after it, gathered again when the backward reaches the unit's output and freed once
/// their gradients are reduced into their owners. So a rank holds its share plus one unit at a time. Use the optimizer of
/// <see cref="CreateOptimizer"/>; <see cref="FullStateDict"/> and <see cref="LoadFullStateDict"/> move whole weights
/// in and out (a checkpoint written on N ranks resumes on M). Training gives the same parameters as
/// <see cref="DistributedDataParallel"/>.
/// </summary>
public sealed class FullyShardedDataParallel : Module<Tensor, Tensor>
{
    readonly Module<Tensor, Tensor> _module;
    readonly ProcessGroup _group;
    readonly List<Tensor> _parameters = [];
    readonly List<string> _names = [];
    readonly List<int[]> _shapes = [];
    readonly int[] _owner;
    readonly List<Unit> _units = [];
    readonly Dictionary<Tensor, Unit> _unitOf = new(ReferenceEqualityComparer.Instance);
    readonly Unit _root;
    bool _armed;

    sealed class Unit(string name)
    {
        public readonly string Name = name;
        public readonly List<int> Parameters = [];
        /// <summary>Whether every rank holds the unit's parameters now (all do until the constructor shards them).</summary>
        public bool Gathered = true;
        public int Pending;
        /// <summary>The storage version the gathered parameters carry in this forward (the backward regathers with it).</summary>
        public int Version;
    }

    /// <summary>
    /// Shards <paramref name="module"/> (float32 parameters on the CPU) over <paramref name="group"/>; rank 0's initial
    /// parameters are the ones kept. <paramref name="units"/> overrides the automatic split into units.
    /// </summary>
    public FullyShardedDataParallel(Module<Tensor, Tensor> module, ProcessGroup? group = null, IEnumerable<Module<Tensor, Tensor>>? units = null)
    {
        _module = module;
        _group = group ?? ProcessGroup.Default ?? throw new KilnException("FullyShardedDataParallel", "FullyShardedDataParallel: call ProcessGroup.Init() first", KilnErrorKind.State);
        RegisterModule("module", module);
        var index = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        foreach (var (name, p) in module.NamedParameters())
        {
            if (p.DType != DType.Float32 || p.IsCuda)
                throw new KilnException("FullyShardedDataParallel", $"FullyShardedDataParallel: parameter '{name}' is {p.DType} on {p.Device}; the MPI backend shards float32 CPU parameters", KilnErrorKind.DType);
            index[p] = _parameters.Count;
            _parameters.Add(p);
            _names.Add(name);
            _shapes.Add(p.ShapeArray);
        }
        _group.BroadcastModule(module);
        _owner = ShardPlan.Assign(_parameters, _group.WorldSize);

        var chosen = new List<(string Name, Module<Tensor, Tensor> Module)>();
        if (units is null)
        {
            foreach (var (name, child) in module.NamedChildren())
                if (child is Module<Tensor, Tensor> unit && HasParameters(unit)) chosen.Add((name, unit));
        }
        else
            foreach (var unit in units) chosen.Add((unit.GetType().Name, unit));
        foreach (var (name, m) in chosen)
        {
            var unit = new Unit(name);
            foreach (var p in m.Parameters())
            {
                if (!index.TryGetValue(p, out int i))
                    throw new KilnException("FullyShardedDataParallel", $"FullyShardedDataParallel: unit '{name}' holds a parameter that is not the wrapped module's", KilnErrorKind.Argument);
                if (_unitOf.ContainsKey(p))
                    throw new KilnException("FullyShardedDataParallel", $"FullyShardedDataParallel: parameter '{_names[i]}' is in two units (units must not nest or share parameters)", KilnErrorKind.Argument);
                unit.Parameters.Add(i);
                _unitOf[p] = unit;
            }
            _units.Add(unit);
            m.RegisterForwardPreHook((_, _) => { Gather(unit, forward: true); return null; });
            m.RegisterForwardHook((_, _, output) => { AfterForward(unit, output); return null; });
        }
        _root = new Unit("(root)");
        for (int i = 0; i < _parameters.Count; i++)
            if (!_unitOf.ContainsKey(_parameters[i])) { _root.Parameters.Add(i); _unitOf[_parameters[i]] = _root; }
        _units.Add(_root);
        _ = new GradientSharding(_parameters, _owner, _group, Reduced);
        foreach (var unit in _units) Free(unit);
    }

    static bool HasParameters(Module m)
    {
        foreach (var _ in m.Parameters()) return true;
        return false;
    }

    /// <summary>The wrapped module.</summary>
    public Module<Tensor, Tensor> Inner => _module;
    /// <summary>The group the parameters are sharded over.</summary>
    public ProcessGroup Group => _group;
    /// <summary>How many units the model is gathered in (the root's own parameters included).</summary>
    public int UnitCount => _units.Count;
    /// <summary>The rank that owns parameter <paramref name="index"/> (in <c>NamedParameters</c> order).</summary>
    public int OwnerOf(int index) => _owner[index];

    /// <summary>Bytes of parameter data this rank holds now (between steps: only its own parameters').</summary>
    public long ParameterBytes
    {
        get
        {
            long bytes = 0;
            foreach (var p in _parameters) bytes += p.Numel * sizeof(float);
            return bytes;
        }
    }

    /// <summary>The largest number of parameter bytes held at once so far (its share plus the units gathered together).</summary>
    public long PeakParameterBytes { get; private set; }

    /// <summary>A stage-3 <see cref="ZeroRedundancyOptimizer"/> over this sharding: each rank updates the parameters it owns.</summary>
    public ZeroRedundancyOptimizer CreateOptimizer(Func<IEnumerable<Tensor>, Optimizer> makeOptimizer) =>
        new(_parameters, makeOptimizer, _group, 3, _owner);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        Gather(_root, forward: true);
        var output = _module.Forward(input);
        if (output.RequiresGrad && Autograd.IsGradEnabled) output.RegisterHook(_ => { Arm(); return null; });
        else Free(_root);
        return output;
    }

    /// <summary>
    /// Every parameter's whole value by its <c>NamedParameters</c> name (each gathered from its owner): every rank calls it
    /// and gets the same copies (rank 0 usually saves them).
    /// </summary>
    public Dictionary<string, Tensor> FullStateDict()
    {
        var state = new Dictionary<string, Tensor>();
        using var _ = Autograd.NoGrad();
        for (int i = 0; i < _parameters.Count; i++)
        {
            var full = _owner[i] == _group.Rank ? _parameters[i].Detach().Clone() : Tensor.Empty(_shapes[i]);
            _group.Broadcast(full, _owner[i]);
            state[_names[i]] = full;
        }
        return state;
    }

    /// <summary>Loads whole weights (from <see cref="FullStateDict"/> or an unsharded model): each rank keeps the parameters it owns. Every rank calls it.</summary>
    public void LoadFullStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var missing = new List<string>();
        foreach (var name in _names) if (!state.ContainsKey(name)) missing.Add(name);
        if (missing.Count > 0)
            throw new KilnException("FullyShardedDataParallel", $"FullyShardedDataParallel: the state dict lacks {string.Join(", ", missing)}", KilnErrorKind.Argument);
        using var _ = Autograd.NoGrad();
        for (int i = 0; i < _parameters.Count; i++)
        {
            var t = state[_names[i]];
            if (!ShapeEquals(t.ShapeArray, _shapes[i]))
                throw new KilnException("FullyShardedDataParallel", $"FullyShardedDataParallel: '{_names[i]}' is [{string.Join(", ", t.ShapeArray)}] in the state dict, [{string.Join(", ", _shapes[i])}] in the model", KilnErrorKind.Shape);
            if (_owner[i] == _group.Rank) _parameters[i].Copy_(t);
        }
    }

    static bool ShapeEquals(int[] a, int[] b) => a.AsSpan().SequenceEqual(b);

    void AfterForward(Unit unit, Tensor output)
    {
        // The backward will need the weights again: gather them when the gradient reaches this unit's output.
        if (output.RequiresGrad && Autograd.IsGradEnabled) output.RegisterHook(_ => { Arm(); Gather(unit, forward: false); return null; });
        Free(unit);
    }

    void Gather(Unit unit, bool forward)
    {
        if (unit.Gathered) return;
        if (forward) unit.Version++;
        using var _ = Autograd.NoGrad();
        int pending = 0;
        foreach (int i in unit.Parameters)
        {
            var p = _parameters[i];
            if (p.RequiresGrad) pending++;
            if (_owner[i] == _group.Rank) { _group.Broadcast(p, _owner[i]); continue; }
            var full = Tensor.Empty(_shapes[i]);
            _group.Broadcast(full, _owner[i]);
            p.SetData(full);
            // The forward's saved tensors check their storage version in the backward: the regathered copy (the same
            // values) carries the version the forward saw.
            p.Storage.Version = unit.Version;
        }
        unit.Pending = pending;
        unit.Gathered = true;
        PeakParameterBytes = Math.Max(PeakParameterBytes, ParameterBytes);
    }

    void Free(Unit unit)
    {
        if (!unit.Gathered) return;
        foreach (int i in unit.Parameters)
            if (_owner[i] != _group.Rank) _parameters[i].SetData(Tensor.Empty([0]));
        unit.Gathered = false;
    }

    void Reduced(Tensor p)
    {
        Arm();
        var unit = _unitOf[p];
        if (--unit.Pending == 0 && unit != _root) Free(unit);
    }

    void Arm()
    {
        if (_armed) return;
        _armed = true;
        Autograd.QueueCallback(() =>
        {
            _armed = false;
            foreach (var unit in _units) Free(unit);
        });
    }
}
