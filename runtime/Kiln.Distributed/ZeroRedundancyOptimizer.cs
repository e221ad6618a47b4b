using System;
using System.Collections.Generic;
using System.IO;
using Kiln.IO;
using Kiln.Optim;

namespace Kiln.Distributed;

/// <summary>
/// ZeRO (<c>torch.distributed.optim.ZeroRedundancyOptimizer</c>, and DeepSpeed's stages): the parameters are split among
/// the ranks (in order, each to the rank holding the fewest elements so far) and each rank's optimizer keeps state only
/// for its own — with Adam, a quarter of the moment buffers per rank on 4 ranks.
/// <list type="bullet">
/// <item>Stage 1: gradients are averaged by <see cref="DistributedDataParallel"/>; <see cref="Step"/> updates the owned
/// parameters, then every parameter is broadcast from its owner, so all ranks hold the same values as with an
/// unsharded optimizer.</item>
/// <item>Stage 2 (no DDP wrapper): also the gradients are sharded — each is averaged into its owner alone as the backward
/// finishes it, and the other ranks drop it; rank 0's initial parameters are broadcast when the optimizer is made.</item>
/// <item>Stage 3: the parameters themselves are sharded too — see <see cref="FullyShardedDataParallel"/>, whose
/// <see cref="FullyShardedDataParallel.CreateOptimizer"/> makes this optimizer for it.</item>
/// </list>
/// Gradient accumulation over several backwards is a stage-1 feature (DDP's NoSync): stages 2–3 reduce at every backward.
/// The state saves as one file per rank and loads back on any number of ranks (<see cref="SaveSharded"/>,
/// <see cref="LoadSharded"/>).
/// </summary>
public sealed class ZeroRedundancyOptimizer
{
    readonly ProcessGroup _group;
    readonly List<Tensor> _parameters = [];
    readonly int[] _owner;
    readonly List<int> _owned = [];
    readonly bool _broadcastAfterStep;

    /// <summary>
    /// Shards <paramref name="parameters"/> over <paramref name="group"/>; <paramref name="makeOptimizer"/> builds the
    /// optimizer for this rank's share (<c>ps => new Adam(ps, lr: 1e-3)</c>). <paramref name="stage"/> is 1 or 2.
    /// </summary>
    public ZeroRedundancyOptimizer(IEnumerable<Tensor> parameters, Func<IEnumerable<Tensor>, Optimizer> makeOptimizer, ProcessGroup? group = null, int stage = 1)
        : this(parameters, makeOptimizer, group, stage, null)
    {
    }

    internal ZeroRedundancyOptimizer(IEnumerable<Tensor> parameters, Func<IEnumerable<Tensor>, Optimizer> makeOptimizer, ProcessGroup? group, int stage, int[]? owner)
    {
        _group = group ?? ProcessGroup.Default ?? throw new KilnException("ZeroRedundancyOptimizer", "ZeroRedundancyOptimizer: call ProcessGroup.Init() first", KilnErrorKind.State);
        if (stage is < 1 or > 3 || (stage == 3 && owner is null))
            throw new KilnException("ZeroRedundancyOptimizer", $"ZeroRedundancyOptimizer: stage must be 1 or 2 (stage 3 comes from FullyShardedDataParallel.CreateOptimizer), got {stage}", KilnErrorKind.Argument);
        Stage = stage;
        _parameters.AddRange(parameters);
        _owner = owner ?? ShardPlan.Assign(_parameters, _group.WorldSize);
        for (int i = 0; i < _parameters.Count; i++) if (_owner[i] == _group.Rank) _owned.Add(i);
        _broadcastAfterStep = stage < 3;
        if (stage == 2)
        {
            using (Autograd.NoGrad()) foreach (var p in _parameters) _group.Broadcast(p);
            _ = new GradientSharding(_parameters, _owner, _group);
        }
        var mine = new List<Tensor>();
        foreach (int i in _owned) mine.Add(_parameters[i]);
        Local = mine.Count > 0 ? makeOptimizer(mine) : null;
    }

    /// <summary>The ZeRO stage: 1 (optimizer state), 2 (+ gradients) or 3 (+ parameters).</summary>
    public int Stage { get; }

    /// <summary>This rank's optimizer over its share (null when it owns nothing: more ranks than parameters).</summary>
    public Optimizer? Local { get; }

    /// <summary>The rank that updates parameter <paramref name="index"/> (in the order given).</summary>
    public int OwnerOf(int index) => _owner[index];

    /// <summary>How many parameters this rank updates.</summary>
    public int OwnedCount => _owned.Count;

    /// <summary>Bytes of optimizer state (moment buffers, step counts) this rank holds.</summary>
    public long StateBytes
    {
        get
        {
            long bytes = 0;
            if (Local is null) return 0;
            foreach (var (_, state) in Local.StateDict().State)
                foreach (var (_, t) in state) bytes += t.Numel * t.DType.SizeOf();
            return bytes;
        }
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.Grad = null;
    }

    /// <summary>Updates the owned parameters, then (stages 1–2) brings every rank every parameter's new value.</summary>
    public void Step()
    {
        Local?.Step();
        if (!_broadcastAfterStep) return;
        using var _ = Autograd.NoGrad();
        for (int i = 0; i < _parameters.Count; i++) _group.Broadcast(_parameters[i], _owner[i]);
    }

    /// <summary>Bytes of gradients this rank holds now (after a stage-2 or 3 backward: its own parameters' only).</summary>
    public long GradientBytes
    {
        get
        {
            long bytes = 0;
            foreach (var p in _parameters) if (p.Grad is { } g) bytes += g.Numel * g.DType.SizeOf();
            return bytes;
        }
    }

    /// <summary>
    /// Writes this rank's optimizer state to <c>optimizer-rank{r}-of-{n}.safetensors</c> in <paramref name="directory"/>,
    /// keyed by global parameter index (<c>p{i}.{buffer}</c>); every rank calls it.
    /// </summary>
    public void SaveSharded(string directory)
    {
        Directory.CreateDirectory(directory);
        var tensors = new Dictionary<string, Tensor>();
        if (Local is not null)
            foreach (var (local, state) in Local.StateDict().State)
                foreach (var (key, t) in state) tensors[$"p{_owned[local]}.{key}"] = t;
        SafeTensors.Save(Path.Combine(directory, $"optimizer-rank{_group.Rank}-of-{_group.WorldSize}.safetensors"), tensors);
        _group.Barrier();
    }

    /// <summary>
    /// Restores state written by <see cref="SaveSharded"/> on any number of ranks: each rank reads every shard file and
    /// keeps the buffers of the parameters it now owns. Files from a different parameter count are refused by name.
    /// </summary>
    public void LoadSharded(string directory)
    {
        var files = Directory.GetFiles(directory, "optimizer-rank*-of-*.safetensors");
        if (files.Length == 0) throw new KilnException("ZeroRedundancyOptimizer", $"ZeroRedundancyOptimizer: no optimizer-rank*-of-*.safetensors in {directory}", KilnErrorKind.Argument);
        var byParameter = new Dictionary<int, Dictionary<string, Tensor>>();
        foreach (var file in files)
            foreach (var (name, t) in SafeTensors.Load(file))
            {
                int dot = name.IndexOf('.');
                if (!name.StartsWith('p') || dot < 2 || !int.TryParse(name.AsSpan(1, dot - 1), out int index))
                    throw new KilnException("ZeroRedundancyOptimizer", $"ZeroRedundancyOptimizer: {file}: '{name}' is not a p<index>.<buffer> entry", KilnErrorKind.Format);
                if (index >= _parameters.Count)
                    throw new KilnException("ZeroRedundancyOptimizer", $"ZeroRedundancyOptimizer: {file} holds state for parameter {index}, but there are {_parameters.Count}", KilnErrorKind.Argument);
                if (!byParameter.TryGetValue(index, out var d)) byParameter[index] = d = new();
                d[name[(dot + 1)..]] = t;
            }
        if (Local is null) return;
        var state = Local.StateDict();
        state.State.Clear();
        for (int local = 0; local < _owned.Count; local++)
            if (byParameter.TryGetValue(_owned[local], out var buffers)) state.State[local] = buffers;
        Local.LoadStateDict(state);
    }
}
