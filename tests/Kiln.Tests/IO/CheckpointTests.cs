using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Kiln.Data;
using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Optim.Schedulers;
using Xunit;

namespace Kiln.Tests.IO;

/// <summary>Checkpoints: N steps + save + fresh objects + load + N steps equals 2N steps straight, bit for bit.</summary>
public class CheckpointTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-ckpt-" + Guid.NewGuid().ToString("N"));

    public CheckpointTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    sealed class Run
    {
        public readonly Sequential Model;
        public readonly AdamW Optimizer;
        public readonly OneCycleLR Scheduler;
        public readonly DataLoader<Tensor[], Tensor[]> Loader;
        public readonly Generator LoaderGenerator;
        public long Epoch, Step;

        public Run(ulong seed)
        {
            // Weights come from their own generator (not the shared default one), so other tests cannot disturb them.
            var g = new Generator(seed);
            Model = new Sequential(new Linear(6, 16), new ReLU(), new Linear(16, 3));
            foreach (var p in Model.Parameters()) Init.Normal_(p, 0, 0.3, g);
            Optimizer = new AdamW(Model.Parameters(), lr: 0.01);
            Scheduler = new OneCycleLR(Optimizer, 0.05, totalSteps: 100);
            var data = new Generator(42);
            var x = Tensor.Randn([50, 6], DType.Float32, data);
            var y = Tensor.RandInt(0, 3, [50], DType.Int64, data);
            LoaderGenerator = new Generator(seed + 1);
            Loader = DataLoader.Create(new TensorDataset(x, y), batchSize: 8, shuffle: true, generator: LoaderGenerator);
        }

        public void Train(long until)
        {
            while (Step < until)
            {
                foreach (var batch in Loader)
                {
                    Optimizer.ZeroGrad();
                    F.CrossEntropy(Model.Call(batch[0]), batch[1]).Backward();
                    Optimizer.Step();
                    Scheduler.Step();
                    if (++Step >= until) return;   // stop in the middle of an epoch
                }
                Epoch++;
            }
        }
    }

    [Fact]
    public void ResumingContinuesBitIdentically()
    {
        var straight = new Run(1);
        straight.Train(20);

        var first = new Run(1);
        first.Train(10);
        string path = Path.Combine(_dir, "ckpt.safetensors");
        Checkpoint.Save(path, first.Model, first.Optimizer, first.Scheduler, first.Epoch, first.Step, first.Loader, [first.LoaderGenerator],
            new Dictionary<string, string> { ["note"] = "mid-epoch" });

        var resumed = new Run(777);   // different weights and loader seed: everything must come from the file
        var info = Checkpoint.Load(path, resumed.Model, resumed.Optimizer, resumed.Scheduler, resumed.Loader, [resumed.LoaderGenerator]);
        Assert.Equal(10, info.Step);
        Assert.Equal("mid-epoch", info.Extra["note"]);
        resumed.Epoch = info.Epoch;
        resumed.Step = info.Step;
        resumed.Train(20);

        var a = straight.Model.StateDict();
        var b = resumed.Model.StateDict();
        foreach (var key in a.Keys) Assert.Equal(a[key].ToArray<float>(), b[key].ToArray<float>());
        Assert.Equal(straight.Optimizer.ParamGroups[0].Lr, resumed.Optimizer.ParamGroups[0].Lr);
        Assert.Equal(straight.Epoch, resumed.Epoch);
    }

    /// <summary>
    /// The test across processes: 2N steps straight in one process; N steps + save in a second; load + N steps
    /// in a third (dropout's default generator, the shuffling generator, AdamW, OneCycleLR and the mid-epoch loader
    /// position all come back from the file). Every weight must be equal bit for bit.
    /// </summary>
    [Fact]
    public void ResumingInANewProcessContinuesBitIdentically()
    {
        string straight = Path.Combine(_dir, "straight.safetensors"), resumed = Path.Combine(_dir, "resumed.safetensors");
        string checkpoint = Path.Combine(_dir, "half.safetensors");
        Probe("20", "--weights", straight);
        Probe("10", "--save", checkpoint);
        Probe("20", "--resume", checkpoint, "--weights", resumed);
        var a = SafeTensors.Load(straight);
        var b = SafeTensors.Load(resumed);
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        foreach (var key in a.Keys) Assert.Equal(a[key].ToArray<float>(), b[key].ToArray<float>());
        // And the run really did train: the weights moved away from a fresh model's.
        var fresh = Path.Combine(_dir, "fresh.safetensors");
        Probe("0", "--weights", fresh);
        Assert.NotEqual(SafeTensors.Load(fresh)["0.weight"].ToArray<float>(), a["0.weight"].ToArray<float>());
    }

    static void Probe(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Kiln.ResumeProbe.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd(), errors = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "the probe did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"probe {string.Join(' ', args)} failed ({process.ExitCode}): {output}{errors}");
    }

    [Fact]
    public void LoadingChecksEverythingBeforeChangingAnything()
    {
        var run = new Run(3);
        string path = Path.Combine(_dir, "c.safetensors");
        Checkpoint.Save(path, run.Model, run.Optimizer, epoch: 2, step: 5);
        var other = new Run(4);
        var before = other.Model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        // A scheduler was not saved: refused before the model is touched.
        var e = Assert.Throws<KilnException>(() => Checkpoint.Load(path, other.Model, other.Optimizer, other.Scheduler));
        Assert.Contains("no 'kiln.scheduler' entry", e.Message);
        foreach (var (k, v) in other.Model.StateDict()) Assert.Equal(before[k].ToArray<float>(), v.ToArray<float>());
        var info = Checkpoint.Load(path, other.Model, other.Optimizer);
        Assert.Equal((2L, 5L), (info.Epoch, info.Step));
        string plain = Path.Combine(_dir, "plain.safetensors");
        SafeTensors.Save(plain, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(1) });
        Assert.Contains("not a Kiln checkpoint", Assert.Throws<KilnException>(() => Checkpoint.Load(plain, other.Model)).Message);
    }
}

public class LoaderResumeTests
{
    [Fact]
    public void AFinishedEpochResumesAtTheNextEpoch()
    {
        var data = new TensorDataset(Tensor.Arange(0, 10, 1, DType.Float32));
        var g1 = new Generator(3);
        var a = DataLoader.Create(data, batchSize: 4, shuffle: true, generator: g1);
        var firstEpoch = a.Select(b => b[0].ToArray<float>()).ToList();
        var state = a.State;                                  // position 3 of 3: the epoch is complete
        var second = a.SelectMany(b => b[0].ToArray<float>()).ToArray();

        var g2 = new Generator(99);
        var b = DataLoader.Create(data, batchSize: 4, shuffle: true, generator: g2);
        g2.SetState(g1.Seed, 0);
        foreach (var _ in b) { }                              // replay epoch one so g2 sits where g1 did after it
        b.LoadState(state);
        Assert.Equal(second, b.SelectMany(x => x[0].ToArray<float>()).ToArray());
        Assert.Equal(3, firstEpoch.Count);
    }
}
