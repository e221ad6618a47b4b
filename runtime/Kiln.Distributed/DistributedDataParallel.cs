using System;
using System.Collections.Generic;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading;
using Kiln.NN;

namespace Kiln.Distributed;

/// <summary>
/// Data-parallel training over a <see cref="ProcessGroup"/> (<c>torch.nn.parallel.DistributedDataParallel</c>): every rank
/// holds the whole model, rank 0's parameters and buffers are broadcast when it is wrapped, each rank runs forward and
/// backward on its own part of the batch, and the gradients are averaged over ranks during the backward — parameters
/// in buckets (reverse registration order, about <c>bucketCapMb</c> each) whose all-reduce starts, on a communication
/// thread, as soon as the backward has finished every gradient in it, while the rest of the backward still runs. After
/// <c>loss.Backward()</c> every rank holds the same averaged gradients, so the same optimizer step keeps them equal.
/// Inside <see cref="NoSync"/> gradients only accumulate locally (gradient accumulation); the next synchronised
/// backward averages the accumulated sum.
/// </summary>
public sealed class DistributedDataParallel : Module<Tensor, Tensor>
{
    readonly Module<Tensor, Tensor> _module;
    readonly ProcessGroup _group;
    readonly List<Bucket> _buckets = [];
    readonly Dictionary<Tensor, (Bucket Bucket, int Slot)> _where = new(ReferenceEqualityComparer.Instance);
    bool _sync = true, _armed;

    sealed class Bucket(List<Tensor> parameters, long elements)
    {
        public readonly List<Tensor> Parameters = parameters;
        public readonly Tensor Flat = Tensor.Zeros([checked((int)elements)]);
        public readonly bool[] Ready = new bool[parameters.Count];
        public int ReadyCount;
        public bool Launched;
        public readonly ManualResetEventSlim Done = new(false);
        public Exception? Failure;
    }

    // The all-reduces run on one communication thread, in launch order (the same order on every rank).
    readonly BlockingCollection<Bucket> _queue = new();
    Thread? _comm;

    /// <summary>Wraps <paramref name="module"/> (its parameters must be float32 on the CPU) for <paramref name="group"/> (default: the one <see cref="ProcessGroup.Init"/> made).</summary>
    public DistributedDataParallel(Module<Tensor, Tensor> module, ProcessGroup? group = null, double bucketCapMb = 25)
    {
        _module = module;
        _group = group ?? ProcessGroup.Default ?? throw new KilnException("DistributedDataParallel", "DistributedDataParallel: call ProcessGroup.Init() first", KilnErrorKind.State);
        RegisterModule("module", module);
        _group.BroadcastModule(module);
        var trainable = new List<Tensor>();
        foreach (var (name, p) in module.NamedParameters())
        {
            if (!p.RequiresGrad) continue;
            if (p.DType != DType.Float32) throw new KilnException("DistributedDataParallel", $"DistributedDataParallel: parameter '{name}' is {p.DType}; gradients are all-reduced as float32", KilnErrorKind.DType);
            trainable.Add(p);
        }
        // The backward reaches the last layers first: buckets in reverse registration order fill in about that order.
        trainable.Reverse();
        long cap = Math.Max(1, (long)(bucketCapMb * 1024 * 1024 / sizeof(float)));
        var current = new List<Tensor>();
        long elements = 0;
        foreach (var p in trainable)
        {
            if (current.Count > 0 && elements + p.Numel > cap) { AddBucket(current, elements); current = []; elements = 0; }
            current.Add(p);
            elements += p.Numel;
        }
        if (current.Count > 0) AddBucket(current, elements);
        foreach (var p in trainable) p.RegisterPostAccumulateGradHook(GradientReady);
    }

    void AddBucket(List<Tensor> parameters, long elements)
    {
        var bucket = new Bucket(parameters, elements);
        for (int i = 0; i < parameters.Count; i++) _where[parameters[i]] = (bucket, i);
        _buckets.Add(bucket);
    }

    /// <summary>The wrapped module (<c>ddp.module</c>).</summary>
    public Module<Tensor, Tensor> Inner => _module;
    /// <summary>The group the gradients are averaged over.</summary>
    public ProcessGroup Group => _group;
    /// <summary>Parameter buckets, in the order their all-reduces start.</summary>
    public int BucketCount => _buckets.Count;
    /// <summary>Time spent waiting for all-reduces after the backward finished, in the last synchronised backward (the part not overlapped).</summary>
    public TimeSpan LastWait { get; private set; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => _module.Forward(input);

    /// <summary>
    /// Gradients accumulate locally inside the scope (<c>no_sync()</c>): for the micro-batches of gradient accumulation
    /// before the last, whose backward then averages everything accumulated.
    /// </summary>
    public IDisposable NoSync()
    {
        bool previous = _sync;
        _sync = false;
        return new Restore(() => _sync = previous);
    }

    sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    void GradientReady(Tensor p)
    {
        if (!_sync) return;
        if (!_armed)
        {
            _armed = true;
            Autograd.QueueCallback(FinishBackward);
        }
        var (bucket, slot) = _where[p];
        if (!bucket.Ready[slot]) { bucket.Ready[slot] = true; bucket.ReadyCount++; }
        if (bucket.ReadyCount == bucket.Parameters.Count && !bucket.Launched) Launch(bucket);
    }

    void Launch(Bucket bucket)
    {
        using var _ = Autograd.NoGrad();
        long offset = 0;
        foreach (var p in bucket.Parameters)
        {
            var dst = bucket.Flat.Narrow(0, offset, checked((int)p.Numel));
            if (p.Grad is { } g) dst.Copy_(g.Reshape(-1));
            else dst.Zero_();   // not used in this forward: contributes zeros, as every rank must send the same buckets
            offset += p.Numel;
        }
        bucket.Launched = true;
        bucket.Done.Reset();
        bucket.Failure = null;
        if (_comm is null)
        {
            _comm = new Thread(Communicate) { IsBackground = true, Name = "kiln-ddp-allreduce" };
            _comm.Start();
        }
        _queue.Add(bucket);
    }

    void Communicate()
    {
        foreach (var b in _queue.GetConsumingEnumerable())
        {
            try { _group.AllReduce(b.Flat); }
            catch (Exception e) { b.Failure = e; }
            b.Done.Set();
        }
    }

    void FinishBackward()
    {
        _armed = false;
        var clock = Stopwatch.StartNew();
        // Buckets holding parameters the forward did not use never filled: send them now, in order, on every rank.
        foreach (var b in _buckets) if (!b.Launched) Launch(b);
        foreach (var b in _buckets)
        {
            b.Done.Wait();
            if (b.Failure is { } e) throw new KilnException("DistributedDataParallel", $"DistributedDataParallel: the gradient all-reduce failed: {e.Message}", e, KilnErrorKind.State);
        }
        LastWait = clock.Elapsed;
        using var _ = Autograd.NoGrad();
        double scale = 1.0 / _group.WorldSize;
        foreach (var b in _buckets)
        {
            b.Flat.Mul_(scale);
            long offset = 0;
            foreach (var p in b.Parameters)
            {
                var averaged = b.Flat.Narrow(0, offset, checked((int)p.Numel)).Reshape(p.ShapeArray);
                if (p.Grad is { } g) g.Copy_(averaged);
                else p.Grad = averaged.Clone();
                offset += p.Numel;
            }
            Array.Clear(b.Ready);
            b.ReadyCount = 0;
            b.Launched = false;
        }
    }
}
