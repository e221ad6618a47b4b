using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Kiln.Data;

/// <summary>
/// One epoch of a <see cref="DataLoader{T, TBatch}"/> with background workers: they load batches ahead of the
/// consumer through a bounded window, and the consumer takes them in order.
/// </summary>
/// <remarks>
/// The workers hold only <see cref="Workers"/>, never this enumerator, so an enumerator that is dropped without
/// <see cref="Dispose"/> (MoveNext once, then abandoned) becomes unreachable and its finalizer stops them.
/// </remarks>
internal sealed class PrefetchingEnumerator<TBatch> : IEnumerator<TBatch>
{
    readonly Workers _workers;
    readonly Action _delivered;
    int _k = -1;
    TBatch _current = default!;

    /// <summary>Threads of every loader still running (tests observe it).</summary>
    internal static int LiveWorkers => Volatile.Read(ref Workers.Live);

    public PrefetchingEnumerator(List<int[]> batches, Func<int[], TBatch> load, int numWorkers, int prefetchFactor, Action delivered)
    {
        _delivered = delivered;
        _workers = new Workers(batches, load, numWorkers, prefetchFactor);
    }

    public TBatch Current => _current;
    object? IEnumerator.Current => _current;

    public bool MoveNext()
    {
        if (_k + 1 >= _workers.Results.Length) { _workers.Stop(wait: true); return false; }
        _k++;
        try { _current = _workers.Results[_k].Task.GetAwaiter().GetResult(); }
        catch { _workers.Stop(wait: true); throw; }
        finally { _workers.Window.Release(); }
        _delivered();
        return true;
    }

    public void Reset() => throw new NotSupportedException("a DataLoader epoch cannot be reset; enumerate the loader again");

    /// <summary>Stopping early (break, exception) cancels the workers still waiting for room and waits for them.</summary>
    public void Dispose()
    {
        _workers.Stop(wait: true);
        GC.SuppressFinalize(this);
    }

    ~PrefetchingEnumerator() => _workers.Stop(wait: false);

    /// <summary>The state the worker threads share: nothing here points back to the enumerator.</summary>
    sealed class Workers
    {
        internal static int Live;
        public readonly TaskCompletionSource<TBatch>[] Results;
        public readonly SemaphoreSlim Window;
        readonly CancellationTokenSource _cancel = new();
        readonly Task[] _tasks;
        readonly List<int[]> _batches;
        readonly Func<int[], TBatch> _load;
        int _next = -1;

        public Workers(List<int[]> batches, Func<int[], TBatch> load, int numWorkers, int prefetchFactor)
        {
            _batches = batches;
            _load = load;
            Results = new TaskCompletionSource<TBatch>[batches.Count];
            for (int i = 0; i < Results.Length; i++) Results[i] = new TaskCompletionSource<TBatch>(TaskCreationOptions.RunContinuationsAsynchronously);
            Window = new SemaphoreSlim(numWorkers * prefetchFactor);
            _tasks = new Task[numWorkers];
            for (int w = 0; w < numWorkers; w++)
                _tasks[w] = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        void Run()
        {
            Interlocked.Increment(ref Live);
            try
            {
                while (true)
                {
                    try { Window.Wait(_cancel.Token); } catch (OperationCanceledException) { return; }
                    int k = Interlocked.Increment(ref _next);
                    if (k >= _batches.Count) { Window.Release(); return; }
                    try { Results[k].SetResult(_load(_batches[k])); }
                    catch (Exception e) { Results[k].SetException(e); }
                }
            }
            finally { Interlocked.Decrement(ref Live); }
        }

        public void Stop(bool wait)
        {
            try { _cancel.Cancel(); } catch (ObjectDisposedException) { }
            if (!wait) return;
            try { Task.WaitAll(_tasks); } catch (AggregateException) { }
        }
    }
}
