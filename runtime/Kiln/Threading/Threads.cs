using System;
using System.Threading;

namespace Kiln;

/// <summary>
/// Kiln's parallel-for over a fixed set of worker threads (like <c>torch.set_num_threads</c>).
/// Work is split into contiguous chunks; a call from inside a worker runs serially, so kernels never
/// oversubscribe the cores.
/// </summary>
public static class Threads
{
    static int _count = Environment.ProcessorCount;
    static Worker[] _workers = Array.Empty<Worker>();
    static readonly object Gate = new();
    [ThreadStatic] static bool _inParallel;
    internal static readonly long SpinTicksDefault = System.Diagnostics.Stopwatch.Frequency / 5000; // 200 µs

    /// <summary>How long an idle worker spins before it sleeps (ticks); internal for measurements.</summary>
    internal static long WorkerSpinTicks = SpinTicksDefault;

    /// <summary>Threads used by kernels (the caller plus Count-1 workers). Defaults to the core count.</summary>
    public static int Count
    {
        get => _count;
        set
        {
            if (value < 1) throw new KilnException("set_num_threads", $"set_num_threads: expected a positive number of threads, got {value}");
            _count = value;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="total"/>) in at most <see cref="Count"/>
    /// chunks, each at least <paramref name="grain"/> long. Returns when all chunks are done; the first
    /// exception of a chunk is rethrown.
    /// </summary>
    public static void For(long total, long grain, Action<long, long> body)
    {
        if (total <= 0) return;
        int chunks = (int)Math.Min(_count, Math.Max(1, total / Math.Max(1, grain)));
        if (chunks <= 1 || _inParallel)
        {
            body(0, total);
            return;
        }
        lock (Gate) // one parallel region at a time; concurrent callers queue behind it
        {
            EnsureWorkers(chunks - 1);
            var job = new Job(body, total, chunks);
            for (int i = 1; i < chunks; i++) _workers[i - 1].Post(job, i);
            _inParallel = true;
            try { job.RunChunk(0); }
            finally { _inParallel = false; }
            job.Wait();
        }
    }

    static void EnsureWorkers(int n)
    {
        if (_workers.Length >= n) return;
        var grown = new Worker[n];
        Array.Copy(_workers, grown, _workers.Length);
        for (int i = _workers.Length; i < n; i++) grown[i] = new Worker(i);
        _workers = grown;
    }

    sealed class Job
    {
        readonly Action<long, long> _body;
        readonly long _total;
        readonly int _chunks;
        int _pending;
        Exception? _error;
        readonly ManualResetEventSlim _done = new(false);

        public Job(Action<long, long> body, long total, int chunks)
        {
            _body = body; _total = total; _chunks = chunks; _pending = chunks;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public void RunChunk(int i)
        {
            try
            {
                long start = _total * i / _chunks, end = _total * (i + 1) / _chunks;
                _body(start, end);
            }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }

        public void Wait()
        {
            // Spin briefly: most chunks finish within microseconds of each other.
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0 && !spin.NextSpinWillYield) spin.SpinOnce();
            _done.Wait();
            _done.Dispose();
            if (_error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(_error).Throw();
        }
    }

    /// <summary>
    /// A worker spins for a short while after each chunk before it sleeps: kernels issue parallel
    /// regions back to back (a GEMM has several per call), and waking a sleeping thread costs tens of
    /// microseconds on a VM, more than many regions take.
    /// </summary>
    sealed class Worker
    {
        readonly SemaphoreSlim _signal = new(0);
        Job? _job;
        int _chunk;
        int _posted, _sleeping;

        public Worker(int id)
        {
            var t = new Thread(Loop) { IsBackground = true, Name = $"kiln-worker-{id}" };
            t.Start();
        }

        public void Post(Job job, int chunk)
        {
            _job = job;
            _chunk = chunk;
            Interlocked.Increment(ref _posted);                    // full fence, then look for a sleeper
            if (Volatile.Read(ref _sleeping) != 0) _signal.Release();
        }

        // A worker's loop never returns, so tiered compilation would leave it at tier 0: optimize it at once.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        void Loop()
        {
            _inParallel = true;
            int seen = 0;
            while (true)
            {
                long until = System.Diagnostics.Stopwatch.GetTimestamp() + WorkerSpinTicks;
                while (Volatile.Read(ref _posted) == seen && System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
                while (Volatile.Read(ref _posted) == seen)
                {
                    Interlocked.Exchange(ref _sleeping, 1);            // full fence before re-checking
                    if (Volatile.Read(ref _posted) == seen) _signal.Wait();
                    Interlocked.Exchange(ref _sleeping, 0);
                }
                seen++;
                _job!.RunChunk(_chunk);
            }
        }
    }
}
