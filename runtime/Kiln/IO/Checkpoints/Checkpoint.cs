using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using Kiln.Data;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Optim.Schedulers;

namespace Kiln.IO;

/// <summary>What a checkpoint recorded besides tensors.</summary>
/// <param name="Epoch">The epoch saved.</param>
/// <param name="Step">The step saved.</param>
/// <param name="Extra">The caller's extra strings.</param>
public sealed record CheckpointInfo(long Epoch, long Step, IReadOnlyDictionary<string, string> Extra)
{
    /// <summary>The model keys the checkpoint lacked or had in excess (both empty unless loaded with <c>strict: false</c>).</summary>
    public LoadStateDictResult Keys { get; init; } = new(Array.Empty<string>(), Array.Empty<string>());
}

/// <summary>
/// Training checkpoints: model weights, optimizer state, scheduler position, epoch and step, every random-number
/// generator's state and the data loader's position, in one safetensors file written atomically (temporary file, flush,
/// rename), so a crash mid-write leaves the previous checkpoint intact. Loading them continues training bit for bit.
/// </summary>
public static class Checkpoint
{
    const string Prefix = "kiln.";

    /// <summary>
    /// Saves a training state to <paramref name="path"/>. <paramref name="generators"/> are saved in order (the default
    /// generator always is); pass the same ones, in the same order, to <see cref="Load"/>.
    /// </summary>
    public static void Save(string path, Module model, Optimizer? optimizer = null, ISchedulerState? scheduler = null, long epoch = 0, long step = 0,
        IResumableLoader? loader = null, IEnumerable<Generator>? generators = null, IReadOnlyDictionary<string, string>? extra = null)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (k, v) in model.StateDict()) tensors.Add(new("model." + k, v));
        var meta = new Dictionary<string, string>
        {
            ["format"] = "kiln-checkpoint",
            [Prefix + "epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            [Prefix + "step"] = step.ToString(CultureInfo.InvariantCulture),
        };
        if (optimizer != null)
        {
            var sd = optimizer.StateDict();
            foreach (var (idx, state) in sd.State)
                foreach (var (name, t) in state) tensors.Add(new($"optimizer.state.{idx}.{name}", t));
            meta[Prefix + "optimizer"] = JsonSerializer.Serialize(sd.ParamGroups.Select(g => new GroupDto(g.Options, g.Params)).ToList());
            meta[Prefix + "optimizer.kind"] = optimizer.Name;
        }
        if (scheduler != null) meta[Prefix + "scheduler"] = JsonSerializer.Serialize(scheduler.StateDict());
        if (loader != null)
        {
            var s = loader.State;
            meta[Prefix + "loader"] = JsonSerializer.Serialize(new[] { (double)s.Seed, s.Offset, s.Position });
            meta[Prefix + "loader.seed"] = s.Seed.ToString(CultureInfo.InvariantCulture);
        }
        var gens = new List<Generator> { Generator.Default };
        if (generators != null) gens.AddRange(generators);
        meta[Prefix + "rng"] = string.Join(";", gens.Select(g => g.Seed.ToString(CultureInfo.InvariantCulture) + "," + g.Offset.ToString(CultureInfo.InvariantCulture)));
        if (extra != null)
            foreach (var (k, v) in extra)
            {
                if (k.StartsWith(Prefix, StringComparison.Ordinal) || k == "format") throw new KilnException("checkpoint", $"checkpoint: extra key '{k}' is reserved", KilnErrorKind.Format);
                meta[k] = v;
            }
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>
    /// Restores what <see cref="Save"/> wrote into the given objects. Everything is read, parsed and checked before any
    /// object changes: the metadata (epoch, step, generator, optimizer, scheduler and loader entries), the model's keys
    /// and shapes (all of them with <paramref name="strict"/>, else the keys both sides have), the optimizer's kind,
    /// group count and buffers, the scheduler's fields. A bad or missing entry raises a <see cref="KilnException"/>
    /// naming the file and the key, and leaves every object as it was.
    /// </summary>
    public static CheckpointInfo Load(string path, Module model, Optimizer? optimizer = null, ISchedulerState? scheduler = null,
        IResumableLoader? loader = null, IEnumerable<Generator>? generators = null, bool strict = true)
    {
        using var f = new SafeTensorsFile(path);
        var meta = new CheckpointMetadata(path, f.Metadata);
        if (!f.Metadata.TryGetValue("format", out var format) || format != "kiln-checkpoint")
            throw new KilnException("checkpoint", $"checkpoint: {path} is not a Kiln checkpoint (its metadata has no format=kiln-checkpoint)", KilnErrorKind.Format);

        // 1. Metadata, parsed in full.
        long epoch = meta.Int64(Prefix + "epoch"), step = meta.Int64(Prefix + "step");
        var rng = meta.GeneratorStates(Prefix + "rng");
        var gens = new List<Generator> { Generator.Default };
        if (generators != null) gens.AddRange(generators);
        if (gens.Count > rng.Count) throw new KilnException("checkpoint", $"checkpoint: {path}: '{Prefix}rng' holds {rng.Count} generator states, {gens.Count} were given", KilnErrorKind.Format);
        List<GroupDto>? groups = null;
        if (optimizer != null)
        {
            if (f.Metadata.TryGetValue(Prefix + "optimizer.kind", out var kind) && kind != optimizer.Name)
                throw new KilnException("checkpoint", $"checkpoint: {path}: the optimizer state was saved by {kind} and cannot be loaded into {optimizer.Name}", KilnErrorKind.Format);
            groups = meta.Json<List<GroupDto>>(Prefix + "optimizer");
            for (int g = 0; g < groups.Count; g++)
                if (groups[g] is not { Options: not null, Params: not null })
                    throw new KilnException("checkpoint", $"checkpoint: {path}: '{Prefix}optimizer' group {g} has no options or params", KilnErrorKind.Format);
        }
        var schedulerState = scheduler != null ? meta.Json<Dictionary<string, double[]>>(Prefix + "scheduler") : null;
        if (scheduler != null) CheckSchedulerState(path, scheduler, schedulerState!);
        DataLoaderState? loaderState = loader != null ? meta.LoaderState(Prefix + "loader", Prefix + "loader.seed") : null;

        // 2. Tensors: read, and disposed again if anything below refuses them.
        var read = new List<Tensor>();
        try
        {
            var modelState = new Dictionary<string, Tensor>();
            var optimizerState = new OptimizerStateDict();
            foreach (var name in f.Names)
            {
                if (name.StartsWith("model.", StringComparison.Ordinal))
                {
                    var t = f.Get(name);
                    read.Add(t);
                    modelState[name["model.".Length..]] = t;
                }
                else if (name.StartsWith("optimizer.state.", StringComparison.Ordinal) && optimizer != null)
                {
                    var rest = name["optimizer.state.".Length..];
                    int dot = rest.IndexOf('.');
                    if (dot <= 0 || !int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out int idx))
                        throw new KilnException("checkpoint", $"checkpoint: {path}: malformed optimizer entry '{name}'", KilnErrorKind.Format);
                    if (!optimizerState.State.TryGetValue(idx, out var st)) optimizerState.State[idx] = st = new Dictionary<string, Tensor>();
                    var t = f.Get(name);
                    read.Add(t);
                    st[rest[(dot + 1)..]] = t;
                }
            }

            // 3. Every check, then 4. the changes (each Load below re-checks what it was just shown to accept).
            var keys = model.CheckStateDict(modelState, strict);
            if (optimizer != null)
            {
                foreach (var g in groups!) optimizerState.ParamGroups.Add((g.Options, g.Params));
                try { optimizer.CheckStateDict(optimizerState); }
                catch (KilnException e) { throw new KilnException("checkpoint", $"checkpoint: {path}: {e.Message}", e, KilnErrorKind.Format); }
            }

            model.LoadStateDict(modelState, strict);
            optimizer?.LoadStateDict(optimizerState);
            scheduler?.LoadStateDict(schedulerState!);
            for (int i = 0; i < gens.Count; i++) gens[i].SetState(rng[i].Seed, rng[i].Offset);
            // After the generators: a shuffling loader rewinds its generator to where the saved epoch began.
            if (loader != null) loader.LoadState(loaderState!);
            var extra = f.Metadata.Where(kv => !kv.Key.StartsWith(Prefix, StringComparison.Ordinal) && kv.Key != "format").ToDictionary(kv => kv.Key, kv => kv.Value);
            return new CheckpointInfo(epoch, step, extra) { Keys = keys };
        }
        finally
        {
            foreach (var t in read) t.Dispose();
        }
    }

    /// <summary>The saved scheduler state must have every field the scheduler's own state has, each of the same length.</summary>
    static void CheckSchedulerState(string path, ISchedulerState scheduler, Dictionary<string, double[]> saved)
    {
        foreach (var (key, now) in scheduler.StateDict())
        {
            if (!saved.TryGetValue(key, out var v) || v is null)
                throw new KilnException("checkpoint", $"checkpoint: {path}: '{Prefix}scheduler' has no '{key}' (saved by another kind of scheduler?)", KilnErrorKind.Format);
            if (v.Length != now.Length)
                throw new KilnException("checkpoint", $"checkpoint: {path}: '{Prefix}scheduler' field '{key}' has {v.Length} values, the scheduler has {now.Length}", KilnErrorKind.Format);
        }
    }

    internal sealed record GroupDto(Dictionary<string, double> Options, int[] Params);
}
