// Run under mpiexec by tests/Kiln.Tests/Distributed: data-parallel training that must equal one process on the whole
// batch, gradient accumulation with NoSync, failures that must end the job, and an overlap measurement.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using Kiln;
using Kiln.Distributed;
using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;

string mode = args[0];
var group = ProcessGroup.Init();
// One compute thread per rank unless told otherwise: ranks share the machine's cores (as torchrun sets OMP_NUM_THREADS).
Threads.Count = Math.Max(1, int.TryParse(Environment.GetEnvironmentVariable("KILN_THREADS"), out var n) ? n : Environment.ProcessorCount / Math.Max(1, group.WorldSize));
switch (mode)
{
    case "train":
    case "accum":
    case "zero":
    case "zero-save":
    case "zero-resume":
    {
        // zero-resume DIR START STEPS BATCH: continue from DIR/ckpt (written by zero-save on another rank count).
        string dir = args[1];
        int argAt = mode == "zero-resume" ? 3 : 2;
        int start = mode == "zero-resume" ? int.Parse(args[2]) : 0;
        int steps = int.Parse(args[argAt]), globalBatch = int.Parse(args[argAt + 1]);
        // Each rank starts from different weights: DDP's broadcast must make them rank 0's.
        Generator.ManualSeed(100 + (ulong)group.Rank);
        var model = ProbeNet.Create();
        string ckpt = Path.Combine(dir, "ckpt");
        if (mode == "zero-resume")
        {
            var saved = SafeTensors.Load(Path.Combine(ckpt, "model.safetensors"));
            using (Autograd.NoGrad()) foreach (var (name, p) in model.NamedParameters()) p.Copy_(saved[name]);
        }
        var ddp = new DistributedDataParallel(model, group, bucketCapMb: 0.0005);
        bool zero = mode.StartsWith("zero");
        var plain = zero ? null : new SGD(model.Parameters(), lr: 0.05, momentum: 0.9);
        var sharded = zero ? new ZeroRedundancyOptimizer(model.Parameters(), ps => new SGD(ps, lr: 0.05, momentum: 0.9), group) : null;
        if (mode == "zero-resume") sharded!.LoadSharded(ckpt);
        var (x, y) = ProbeNet.Data((start + steps) * globalBatch);
        int local = globalBatch / group.WorldSize;
        for (int s = start; s < start + steps; s++)
        {
            if (zero) sharded!.ZeroGrad(); else plain!.ZeroGrad();
            var xs = x.Narrow(0, s * globalBatch + group.Rank * local, local);
            var ys = y.Narrow(0, s * globalBatch + group.Rank * local, local);
            if (mode != "accum") F.MseLoss(ddp.Forward(xs), ys).Backward();
            else
            {
                int half = local / 2;
                using (ddp.NoSync()) (F.MseLoss(ddp.Forward(xs.Narrow(0, 0, half)), ys.Narrow(0, 0, half)) * 0.5).Backward();
                (F.MseLoss(ddp.Forward(xs.Narrow(0, half, local - half)), ys.Narrow(0, half, local - half)) * 0.5).Backward();
            }
            if (zero) sharded!.Step(); else plain!.Step();
        }
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, p) in model.NamedParameters()) state[name] = p.Detach();
        if (mode == "zero-save")
        {
            sharded!.SaveSharded(ckpt);
            if (group.IsMain) SafeTensors.Save(Path.Combine(ckpt, "model.safetensors"), state);
        }
        SafeTensors.Save(Path.Combine(dir, $"rank{group.Rank}.safetensors"), state);
        Console.WriteLine($"rank {group.Rank}/{group.WorldSize}: {ddp.BucketCount} buckets" + (zero ? $", optimizer state {sharded!.StateBytes} bytes for {sharded.OwnedCount} parameters" : ""));
        break;
    }
    case "errors":
        // Bad input to collectives: each message on its own line for the test to read.
        foreach (var bad in new Action[] { () => group.AllReduce(Tensor.Ones(2, 3).T), () => group.AllReduce(Tensor.Ones([3], DType.Int32)), () => group.Broadcast(Tensor.Ones(2), root: 5) })
        {
            try { bad(); Console.WriteLine("no error"); }
            catch (KilnException e) { Console.WriteLine("error: " + e.Message); }
        }
        var summed = Tensor.Full([3], group.Rank + 1.0);
        group.AllReduce(summed);
        var gathered = group.AllGather(Tensor.Full([2], (double)group.Rank));
        if (group.IsMain) Console.WriteLine($"sum {string.Join(",", summed.ToArray<float>())} gather {string.Join(",", gathered.Reshape(-1).ToArray<float>())}");
        break;
    case "throw":
        if (group.Rank == 1) throw new InvalidOperationException("rank 1 fails on purpose");
        group.AllReduce(Tensor.Ones(4));   // the others wait here for rank 1
        break;
    case "kill":
        if (group.Rank == 1) Process.GetCurrentProcess().Kill();
        group.AllReduce(Tensor.Ones(4));
        break;
    case "zero-memory":
    {
        // Adam's state per rank for the 4-layer 1024-wide MLP, ZeRO-1 against every rank holding all of it.
        Generator.ManualSeed(1);
        var model = new Sequential(new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024));
        var ddp = new DistributedDataParallel(model, group, bucketCapMb: 4);
        var zero = new ZeroRedundancyOptimizer(model.Parameters(), ps => new Adam(ps, lr: 1e-3), group);
        ddp.Forward(Tensor.Randn(8, 1024)).Pow(2).Mean().Backward();
        zero.Step();
        long mine = zero.StateBytes;
        var all = group.AllGather(Tensor.Full([1], (double)mine, DType.Int64));
        if (group.IsMain)
            Console.WriteLine($"zero-memory ranks={group.WorldSize} adam_state_bytes_per_rank={string.Join(",", all.ToArray<long>())} unsharded={all.Sum().Item<long>()}");
        break;
    }
    case "overlap":
    {
        // A 4-layer 1024-wide MLP: the backward with DDP's bucketed all-reduce against the backward followed by one
        // blocking all-reduce of every gradient (what no overlap costs).
        Generator.ManualSeed(1);
        var model = new Sequential(new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024));
        var ddp = new DistributedDataParallel(model, group, bucketCapMb: 4);
        var x = Tensor.Randn(64, 1024);
        double Time(Action step)
        {
            for (int i = 0; i < 3; i++) step();
            var best = double.MaxValue;
            for (int r = 0; r < 5; r++)
            {
                group.Barrier();
                var clock = Stopwatch.StartNew();
                step();
                best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
            }
            return best;
        }
        double overlapped = Time(() => { model.ZeroGrad(); ddp.Forward(x).Pow(2).Mean().Backward(); });
        double waited = ddp.LastWait.TotalMilliseconds;
        double sequential = Time(() =>
        {
            model.ZeroGrad();
            using (ddp.NoSync()) model.Forward(x).Pow(2).Mean().Backward();
            foreach (var p in model.Parameters()) group.AllReduce(p.Grad!, ReduceOp.Average);
        });
        double compute = Time(() => { model.ZeroGrad(); using (ddp.NoSync()) model.Forward(x).Pow(2).Mean().Backward(); });
        if (group.IsMain)
            Console.WriteLine($"overlap ranks={group.WorldSize} buckets={ddp.BucketCount} compute_ms={compute:F2} sequential_ms={sequential:F2} ddp_ms={overlapped:F2} wait_after_backward_ms={waited:F2}");
        break;
    }
}
ProcessGroup.Shutdown();

/// <summary>Linear 8→16, tanh, Linear 16→4, with a fixed data set (the tests train the same net in one process).</summary>
public static class ProbeNet
{
    public static Sequential Create() => new(new Linear(8, 16), new Tanh(), new Linear(16, 4));

    /// <summary>The first <paramref name="rows"/> of one fixed pool of 1024 examples (any count gives the same rows).</summary>
    public static (Tensor X, Tensor Y) Data(int rows)
    {
        const int pool = 1024;
        if (rows > pool) throw new ArgumentOutOfRangeException(nameof(rows), $"at most {pool} rows");
        var g = new Generator(42);
        var x = Tensor.Randn([pool, 8], generator: g);
        var y = Tensor.Randn([pool, 4], generator: g);
        return (x.Narrow(0, 0, rows), y.Narrow(0, 0, rows));
    }
}
