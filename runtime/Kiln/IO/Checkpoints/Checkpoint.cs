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
public sealed record CheckpointInfo(long Epoch, long Step, IReadOnlyDictionary<string, string> Extra);

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
                if (k.StartsWith(Prefix, StringComparison.Ordinal) || k == "format") throw new KilnException("checkpoint", $"checkpoint: extra key '{k}' is reserved");
                meta[k] = v;
            }
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>
    /// Restores what <see cref="Save"/> wrote into the given objects (strict: the model's keys and shapes must match).
    /// Everything is read and checked before the objects change.
    /// </summary>
    public static CheckpointInfo Load(string path, Module model, Optimizer? optimizer = null, ISchedulerState? scheduler = null,
        IResumableLoader? loader = null, IEnumerable<Generator>? generators = null)
    {
        using var f = new SafeTensorsFile(path);
        var meta = f.Metadata;
        if (!meta.TryGetValue("format", out var format) || format != "kiln-checkpoint")
            throw new KilnException("checkpoint", $"checkpoint: {path} is not a Kiln checkpoint (its metadata has no format=kiln-checkpoint)");
        string Need(string key) => meta.TryGetValue(Prefix + key, out var v) ? v
            : throw new KilnException("checkpoint", $"checkpoint: {path} has no '{key}' entry to restore into the {key} given");

        var modelState = new Dictionary<string, Tensor>();
        var optimizerState = new OptimizerStateDict();
        foreach (var name in f.Names)
        {
            if (name.StartsWith("model.", StringComparison.Ordinal)) modelState[name["model.".Length..]] = f.Get(name);
            else if (name.StartsWith("optimizer.state.", StringComparison.Ordinal) && optimizer != null)
            {
                var rest = name["optimizer.state.".Length..];
                int dot = rest.IndexOf('.');
                if (dot <= 0 || !int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out int idx))
                    throw new KilnException("checkpoint", $"checkpoint: {path}: malformed optimizer entry '{name}'");
                if (!optimizerState.State.TryGetValue(idx, out var s)) optimizerState.State[idx] = s = new Dictionary<string, Tensor>();
                s[rest[(dot + 1)..]] = f.Get(name);
            }
        }
        List<GroupDto>? groups = optimizer != null ? JsonSerializer.Deserialize<List<GroupDto>>(Need("optimizer")) : null;
        var schedulerState = scheduler != null ? JsonSerializer.Deserialize<Dictionary<string, double[]>>(Need("scheduler")) : null;
        DataLoaderState? loaderState = null;
        if (loader != null)
        {
            var v = JsonSerializer.Deserialize<double[]>(Need("loader"))!;
            ulong seed = ulong.Parse(Need("loader.seed"), CultureInfo.InvariantCulture);
            loaderState = new DataLoaderState(seed, (long)v[1], (int)v[2]);
        }
        var rng = Need("rng").Split(';').Select(p => p.Split(',')).Select(p => (Seed: ulong.Parse(p[0], CultureInfo.InvariantCulture), Offset: long.Parse(p[1], CultureInfo.InvariantCulture))).ToList();
        var gens = new List<Generator> { Generator.Default };
        if (generators != null) gens.AddRange(generators);
        if (gens.Count > rng.Count) throw new KilnException("checkpoint", $"checkpoint: {path} saved {rng.Count} generator states, {gens.Count} were given");

        // All read and parsed: now change the objects (model first: it checks keys and shapes before writing).
        model.LoadStateDict(modelState);
        if (optimizer != null)
        {
            foreach (var g in groups!) optimizerState.ParamGroups.Add((g.Options, g.Params));
            optimizer.LoadStateDict(optimizerState);
        }
        if (scheduler != null) scheduler.LoadStateDict(schedulerState!);
        for (int i = 0; i < gens.Count; i++) gens[i].SetState(rng[i].Seed, rng[i].Offset);
        // After the generators: a shuffling loader rewinds its generator to where the saved epoch began.
        if (loader != null) loader.LoadState(loaderState!);
        var extra = meta.Where(kv => !kv.Key.StartsWith(Prefix, StringComparison.Ordinal) && kv.Key != "format").ToDictionary(kv => kv.Key, kv => kv.Value);
        return new CheckpointInfo(long.Parse(Need("epoch"), CultureInfo.InvariantCulture), long.Parse(Need("step"), CultureInfo.InvariantCulture), extra);
    }

    sealed record GroupDto(Dictionary<string, double> Options, int[] Params);
}
