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
    case "zero2":
    case "fsdp":
    case "fsdp-save":
    case "fsdp-resume":
    {
        // *-resume DIR START STEPS BATCH: continue from DIR/ckpt (written by *-save on another rank count).
        string dir = args[1];
        bool resume = mode.EndsWith("-resume");
        int argAt = resume ? 3 : 2;
        int start = resume ? int.Parse(args[2]) : 0;
        int steps = int.Parse(args[argAt]), globalBatch = int.Parse(args[argAt + 1]);
        // Each rank starts from different weights: the wrapper's broadcast must make them rank 0's.
        var model = ProbeNet.Create(100 + (ulong)group.Rank);
        string ckpt = Path.Combine(dir, "ckpt");
        bool fsdpMode = mode.StartsWith("fsdp"), zero = mode.StartsWith("zero") || fsdpMode;
        if (mode == "zero-resume")
        {
            var saved = SafeTensors.Load(Path.Combine(ckpt, "model.safetensors"));
            using (Autograd.NoGrad()) foreach (var (name, p) in model.NamedParameters()) p.Copy_(saved[name]);
        }
        Func<IEnumerable<Tensor>, Optimizer> sgd = ps => new SGD(ps, lr: 0.05, momentum: 0.9);
        DistributedDataParallel? ddp = null;
        FullyShardedDataParallel? fsdp = null;
        ZeroRedundancyOptimizer? sharded = null;
        Optimizer? plain = null;
        Func<Tensor, Tensor> forward;
        if (fsdpMode)
        {
            fsdp = new FullyShardedDataParallel(model, group);
            if (mode == "fsdp-resume") fsdp.LoadFullStateDict(SafeTensors.Load(Path.Combine(ckpt, "model.safetensors")));
            sharded = fsdp.CreateOptimizer(sgd);
            forward = fsdp.Forward;
        }
        else if (mode == "zero2")
        {
            sharded = new ZeroRedundancyOptimizer(model.Parameters(), sgd, group, stage: 2);
            forward = model.Forward;
        }
        else
        {
            ddp = new DistributedDataParallel(model, group, bucketCapMb: 0.0005);
            if (zero) sharded = new ZeroRedundancyOptimizer(model.Parameters(), sgd, group);
            else plain = sgd(model.Parameters());
            forward = ddp.Forward;
        }
        if (resume) sharded!.LoadSharded(ckpt);
        var (x, y) = ProbeNet.Data((start + steps) * globalBatch);
        int local = globalBatch / group.WorldSize;
        long gradientBytes = 0;
        for (int s = start; s < start + steps; s++)
        {
            if (zero) sharded!.ZeroGrad(); else plain!.ZeroGrad();
            var xs = x.Narrow(0, s * globalBatch + group.Rank * local, local);
            var ys = y.Narrow(0, s * globalBatch + group.Rank * local, local);
            if (mode != "accum") F.MseLoss(forward(xs), ys).Backward();
            else
            {
                int half = local / 2;
                using (ddp!.NoSync()) (F.MseLoss(forward(xs.Narrow(0, 0, half)), ys.Narrow(0, 0, half)) * 0.5).Backward();
                (F.MseLoss(forward(xs.Narrow(0, half, local - half)), ys.Narrow(0, half, local - half)) * 0.5).Backward();
            }
            if (zero) gradientBytes = sharded!.GradientBytes;
            if (zero) sharded!.Step(); else plain!.Step();
        }
        var state = new Dictionary<string, Tensor>();
        if (fsdp is not null) state = fsdp.FullStateDict();
        else foreach (var (name, p) in model.NamedParameters()) state[name] = p.Detach();
        if (mode.EndsWith("-save"))
        {
            sharded!.SaveSharded(ckpt);
            if (group.IsMain) SafeTensors.Save(Path.Combine(ckpt, "model.safetensors"), state);
        }
        SafeTensors.Save(Path.Combine(dir, $"rank{group.Rank}.safetensors"), state);
        Console.WriteLine($"rank {group.Rank}/{group.WorldSize}: {ddp?.BucketCount ?? 0} buckets"
            + (zero ? $", optimizer state {sharded!.StateBytes} bytes for {sharded.OwnedCount} parameters, gradients {gradientBytes} bytes" : "")
            + (fsdp is not null ? $", parameters {fsdp.ParameterBytes} bytes held, peak {fsdp.PeakParameterBytes}, {fsdp.UnitCount} units" : ""));
        break;
    }
    case "errors":
        // Bad input to collectives: each message on its own line for the test to read.
        foreach (var bad in new Action[] { () => group.AllReduce(Tensor.Ones(2, 3).T), () => group.AllReduce(Tensor.Ones([3], DType.Int32)), () => group.Broadcast(Tensor.Ones(2), root: 5), () => group.Reduce(Tensor.Ones(2), root: -1) })
        {
            try { bad(); Console.WriteLine("no error"); }
            catch (KilnException e) { Console.WriteLine("error: " + e.Message); }
        }
        var summed = Tensor.Full([3], group.Rank + 1.0);
        group.AllReduce(summed);
        var gathered = group.AllGather(Tensor.Full([2], (double)group.Rank));
        if (group.IsMain) Console.WriteLine($"sum {string.Join(",", summed.ToArray<float>())} gather {string.Join(",", gathered.Reshape(-1).ToArray<float>())}");
        // Reduce into rank 1 only: the others keep their own values.
        var reduced = Tensor.Full([2], group.Rank + 1.0);
        group.Reduce(reduced, root: 1, ReduceOp.Average);
        Console.WriteLine($"reduce rank {group.Rank}: {string.Join(",", reduced.ToArray<float>())}");
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
        // Bytes per rank of parameters, gradients and Adam state for a 4-layer 1024-wide MLP after one step, ZeRO stages
        // 1, 2 and 3, against one unsharded copy of each.
        Sequential Mlp()
        {
            Generator.ManualSeed(1);
            return new Sequential(new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024), new ReLU(), new Linear(1024, 1024));
        }
        Func<IEnumerable<Tensor>, Optimizer> adam = ps => new Adam(ps, lr: 1e-3);
        var x = Tensor.Randn(8, 1024);
        long[] Gather(long v) => group.AllGather(Tensor.Full([1], (double)v, DType.Int64)).ToArray<long>();
        void Report(int stage, long parameters, long peak, long gradients, long state)
        {
            var p = Gather(parameters); var pk = Gather(peak); var g = Gather(gradients); var st = Gather(state);
            if (group.IsMain)
                Console.WriteLine($"zero-memory stage={stage} ranks={group.WorldSize} parameter_bytes={string.Join(",", p)} peak_parameter_bytes={string.Join(",", pk)} gradient_bytes={string.Join(",", g)} adam_state_bytes={string.Join(",", st)}");
        }
        long Bytes(IEnumerable<Tensor> ts) { long b = 0; foreach (var t in ts) b += t.Numel * sizeof(float); return b; }
        {
            var model = Mlp();
            var ddp = new DistributedDataParallel(model, group, bucketCapMb: 4);
            var zero = new ZeroRedundancyOptimizer(model.Parameters(), adam, group);
            ddp.Forward(x).Pow(2).Mean().Backward();
            long grads = zero.GradientBytes;
            zero.Step();
            var all = Gather(zero.StateBytes);
            if (group.IsMain)
                Console.WriteLine($"zero-memory ranks={group.WorldSize} adam_state_bytes_per_rank={string.Join(",", all)} unsharded={System.Linq.Enumerable.Sum(all)}");
            Report(1, Bytes(model.Parameters()), Bytes(model.Parameters()), grads, zero.StateBytes);
        }
        {
            var model = Mlp();
            var zero = new ZeroRedundancyOptimizer(model.Parameters(), adam, group, stage: 2);
            model.Forward(x).Pow(2).Mean().Backward();
            long grads = zero.GradientBytes;
            zero.Step();
            Report(2, Bytes(model.Parameters()), Bytes(model.Parameters()), grads, zero.StateBytes);
        }
        {
            var fsdp = new FullyShardedDataParallel(Mlp(), group);
            var zero = fsdp.CreateOptimizer(adam);
            fsdp.Forward(x).Pow(2).Mean().Backward();
            long grads = zero.GradientBytes;
            zero.Step();
            Report(3, fsdp.ParameterBytes, fsdp.PeakParameterBytes, grads, zero.StateBytes);
        }
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
    /// <summary>
    /// The net with weights drawn from a generator of its own (<paramref name="seed"/>), not the process-wide one, which
    /// tests running beside the one that builds the reference could draw from between a seed and the build.
    /// </summary>
    public static Sequential Create(ulong seed)
    {
        var net = new Sequential(new Linear(8, 16), new Tanh(), new Linear(16, 4));
        var g = new Generator(seed);
        using (Autograd.NoGrad())
            foreach (var p in net.Parameters()) Init.Uniform_(p, -0.3, 0.3, g);
        return net;
    }

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
