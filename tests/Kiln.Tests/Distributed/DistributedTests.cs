using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Kiln.Distributed;
using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;
using Xunit;

namespace Kiln.Tests.Distributed;

/// <summary>
/// Data-parallel training launched as users launch it, <c>mpiexec -n N dotnet app.dll</c> (Debian's MPICH; test.sh installs
/// it), with 2 and 4 ranks on this machine (oversubscribed): every rank ends with identical parameters, equal to one
/// process training on the concatenated batch — also with gradient accumulation under NoSync — though each rank starts
/// from different weights (DDP broadcasts rank 0's); ZeRO stages 1–3 give the same result with their optimizer state,
/// gradients and parameters split among the ranks, and a sharded checkpoint from 2 ranks resumes on 4; a rank that throws
/// or is killed ends the job within seconds.
/// </summary>
public class DistributedTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-ddp-" + Guid.NewGuid().ToString("N"));
    static readonly string Probe = Path.Combine(AppContext.BaseDirectory, "Kiln.DistributedProbe.dll");

    public DistributedTests() => Directory.CreateDirectory(_dir);

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    static (int Exit, string Output, TimeSpan Took) Mpi(int ranks, params string[] args)
    {
        var start = new ProcessStartInfo("mpiexec") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-n", ranks.ToString(), "dotnet", Probe }.Concat(args)) start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(start) ?? throw new InvalidOperationException("mpiexec did not start (apt-get install mpich; test.sh does)");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"mpiexec -n {ranks} {string.Join(' ', args)} hung:\n{stdout.Result}\n{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result + stderr.Result, clock.Elapsed);
    }

    [Theory]
    [InlineData(2, "train")]
    [InlineData(4, "train")]
    [InlineData(2, "accum")]
    [InlineData(4, "accum")]
    [InlineData(2, "zero")]
    [InlineData(4, "zero")]
    [InlineData(4, "zero-resume")]
    [InlineData(2, "zero2")]
    [InlineData(4, "zero2")]
    [InlineData(2, "fsdp")]
    [InlineData(4, "fsdp")]
    [InlineData(4, "fsdp-resume")]
    public void RanksEndEqualToOneProcessOnTheWholeBatch(int ranks, string mode)
    {
        const int steps = 4, globalBatch = 16;
        string output;
        if (mode.EndsWith("-resume"))
        {
            // Two steps on 2 ranks, a sharded checkpoint, two more steps on 4 ranks from it.
            var (saved, savedOut, _) = Mpi(2, mode.Replace("-resume", "-save"), _dir, "2", globalBatch.ToString());
            Assert.True(saved == 0, savedOut);
            Assert.Equal(2, Directory.GetFiles(Path.Combine(_dir, "ckpt"), "optimizer-rank*-of-2.safetensors").Length);
            int exit;
            (exit, output, _) = Mpi(ranks, mode, _dir, "2", "2", globalBatch.ToString());
            Assert.True(exit == 0, output);
        }
        else
        {
            int exit;
            (exit, output, _) = Mpi(ranks, mode, _dir, steps.ToString(), globalBatch.ToString());
            Assert.True(exit == 0, output);
        }
        const long modelBytes = (8 * 16 + 16 + 16 * 4 + 4) * 4L;
        List<long> Bytes(string pattern) => System.Text.RegularExpressions.Regex.Matches(output, pattern).Select(m => long.Parse(m.Groups[1].Value)).ToList();
        void Split(List<long> bytes)
        {
            // Split, not copied: the shares add up to one copy, each rank holds part.
            Assert.Equal(ranks, bytes.Count);
            Assert.Equal(modelBytes, bytes.Sum());
            Assert.All(bytes, b => Assert.True(b < modelBytes));
        }
        if (mode.StartsWith("zero") || mode.StartsWith("fsdp")) Split(Bytes(@"optimizer state (\d+) bytes"));   // momentum buffers
        if (mode.StartsWith("zero2") || mode.StartsWith("fsdp")) Split(Bytes(@"gradients (\d+) bytes"));      // stage 2: gradients too
        if (mode.StartsWith("fsdp")) Split(Bytes(@"parameters (\d+) bytes held"));                          // stage 3: parameters too

        // One process, the whole batch each step, from rank 0's initial weights.
        var model = ProbeNet.Create(100);
        var optimizer = new SGD(model.Parameters(), lr: 0.05, momentum: 0.9);
        var (x, y) = ProbeNet.Data(steps * globalBatch);
        for (int s = 0; s < steps; s++)
        {
            optimizer.ZeroGrad();
            F.MseLoss(model.Forward(x.Narrow(0, s * globalBatch, globalBatch)), y.Narrow(0, s * globalBatch, globalBatch)).Backward();
            optimizer.Step();
        }
        var first = SafeTensors.Load(Path.Combine(_dir, "rank0.safetensors"));
        for (int r = 0; r < ranks; r++)
        {
            var state = SafeTensors.Load(Path.Combine(_dir, $"rank{r}.safetensors"));
            foreach (var (name, p) in model.NamedParameters())
            {
                var got = state[name].ToArray<float>();
                Assert.Equal(first[name].ToArray<float>(), got);   // ranks agree bit for bit
                var want = p.ToArray<float>();
                for (int i = 0; i < want.Length; i++)
                    Assert.True(Math.Abs(got[i] - want[i]) <= 1e-5 + 1e-5 * Math.Abs(want[i]), $"rank {r} {name}[{i}]: {got[i]} vs {want[i]} (one process)");
            }
        }
    }

    [Fact]
    public void ARankThatThrowsEndsTheJobWithItsError()
    {
        var (exit, output, took) = Mpi(2, "throw");
        Assert.NotEqual(0, exit);
        Assert.Contains("rank 1 fails on purpose", output);
        Assert.True(took < TimeSpan.FromSeconds(30), $"took {took}");
    }

    [Fact]
    public void ARankThatIsKilledEndsTheJob()
    {
        var (exit, output, took) = Mpi(2, "kill");
        Assert.NotEqual(0, exit);
        Assert.True(took < TimeSpan.FromSeconds(30), $"took {took}:\n{output}");
    }

    [Fact]
    public void CollectivesComputeAndRefuseBadInput()
    {
        var (exit, output, _) = Mpi(3, "errors");
        Assert.True(exit == 0, output);
        Assert.Contains("error: all_reduce: the tensor must be contiguous", output);
        Assert.Contains("error: all_reduce: dtype Int32 is not supported", output);
        Assert.Contains("error: broadcast: root 5 is not a rank of a job of 3", output);
        Assert.Contains("sum 6,6,6 gather 0,0,1,1,2,2", output);
        Assert.Contains("error: reduce: root -1 is not a rank of a job of 3", output);
        Assert.Contains("reduce rank 1: 2,2", output);   // (1 + 2 + 3) / 3
        Assert.Contains("reduce rank 0: 1,1", output);
        Assert.Contains("reduce rank 2: 3,3", output);
    }

    [Fact]
    public void DistributedSamplerSplitsAsPyTorchDoes()
    {
        // Without shuffling: 10 items over 3 ranks pad to 12 by repeating the start, then stride by rank.
        int[][] want = [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]];
        for (int r = 0; r < 3; r++) Assert.Equal(want[r], new DistributedSampler(10, 3, r, shuffle: false).ToArray());
        Assert.Equal([0, 3, 6], new DistributedSampler(10, 3, 0, shuffle: false, dropLast: true).ToArray());
        // Shuffled: the ranks' shares cover the epoch's permutation once; a new epoch, a new order.
        var samplers = Enumerable.Range(0, 4).Select(r => new DistributedSampler(20, 4, r, seed: 3)).ToList();
        var all = samplers.SelectMany(s => s).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 20).ToArray(), all);
        var epoch0 = samplers[0].ToArray();
        samplers[0].SetEpoch(1);
        Assert.NotEqual(epoch0, samplers[0].ToArray());
        Assert.Contains("rank should be in the interval [0, 3]", Assert.Throws<KilnException>(() => new DistributedSampler(10, 4, 4)).Message);
    }
}
