using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Kiln.Transformers;
using Kiln.Transformers.Tokenization;

namespace Kiln.Samples.Serve;

/// <summary>One request's generation: its prompt, settings, and the text pieces it streams out.</summary>
public sealed class GenerationJob(long[] prompt, GenerationConfig config, CancellationToken cancelled)
{
    public long[] Prompt { get; } = prompt;
    public GenerationConfig Config { get; } = config;
    public CancellationToken Cancelled { get; } = cancelled;
    /// <summary>Text as it is generated; completed when the job ends (with its finish reason set).</summary>
    public Channel<string> Pieces { get; } = Channel.CreateUnbounded<string>();
    public string FinishReason { get; set; } = "length";
    public int CompletionTokens { get; set; }
    internal GenerationRequest? Request;
    internal string Sent = "";
}

/// <summary>
/// Continuous batching on one model (Kiln.Transformers' <see cref="ContinuousBatcher"/> over a paged KV cache): a single
/// loop owns the model; each turn it hands new requests to the batcher, which admits them (prefill) while the block pool
/// has room and then decodes one token for every running request in one batched forward; the loop streams each new
/// token's text and completes finished or cancelled jobs, whose blocks go back to the pool. At most
/// <c>maxActive</c> decode together; up to <c>maxQueued</c> more wait, and beyond that a request is refused.
/// </summary>
public sealed class Scheduler : IDisposable
{
    readonly PreTrainedTokenizer _tokenizer;
    readonly ContinuousBatcher _batcher;
    readonly Channel<GenerationJob> _incoming = Channel.CreateUnbounded<GenerationJob>();
    readonly Dictionary<GenerationRequest, GenerationJob> _jobs = [];
    readonly int _limit;
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;
    int _outstanding;

    public Scheduler(ICausalLM model, PreTrainedTokenizer tokenizer, int maxActive = 8, int maxQueued = 64, int kvBlocks = 512, int blockSize = 16)
    {
        _tokenizer = tokenizer;
        _limit = maxActive + maxQueued;
        _batcher = new ContinuousBatcher(model, model.CreatePagedCache(kvBlocks, blockSize), tokenizer, maxActive);
        _loop = Task.Factory.StartNew(Loop, TaskCreationOptions.LongRunning);
    }

    /// <summary>The batcher's counters (pool, running, waiting, preemptions), for the load test's report.</summary>
    public ContinuousBatcher Batcher => _batcher;

    /// <summary>Queues <paramref name="job"/>; false when running and waiting jobs are at the limit (the caller answers 429).</summary>
    public bool TrySubmit(GenerationJob job)
    {
        if (Interlocked.Increment(ref _outstanding) > _limit) { Interlocked.Decrement(ref _outstanding); return false; }
        return _incoming.Writer.TryWrite(job);
    }

    void Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            while (_incoming.Reader.TryRead(out var job)) Admit(job);
            if (!_batcher.HasWork)
            {
                try { _incoming.Reader.WaitToReadAsync(_stop.Token).AsTask().Wait(); }
                catch (AggregateException) { return; }
                continue;
            }
            foreach (var (request, job) in _jobs)
                if (job.Cancelled.IsCancellationRequested) _batcher.Cancel(request);
            IReadOnlyList<GenerationRequest> changed;
            try { changed = _batcher.Step(); }
            catch (Exception e)
            {
                // A failed forward leaves the batch unusable: fail every job in it (each client gets the error).
                foreach (var (request, job) in _jobs) { _batcher.Cancel(request); Complete(job, e); }
                _jobs.Clear();
                while (_batcher.HasWork) _batcher.Step();
                continue;
            }
            foreach (var request in changed)
                if (_jobs.TryGetValue(request, out var job)) Stream(request, job);
        }
    }

    void Admit(GenerationJob job)
    {
        try { _jobs[job.Request = _batcher.Add(job.Prompt, job.Config)] = job; }
        catch (Exception e) { Complete(job, e); }
    }

    /// <summary>Sends the text <paramref name="job"/> gained; completes it when its request has finished.</summary>
    void Stream(GenerationRequest request, GenerationJob job)
    {
        var generated = request.Generated();
        job.CompletionTokens = generated.Length;
        string text = _tokenizer.Decode(generated, skipSpecialTokens: true);
        // Hold back a trailing replacement character: the next token may complete the UTF-8 sequence.
        if (!(!request.IsFinished && text.EndsWith('\uFFFD')) && text.Length > job.Sent.Length && text.StartsWith(job.Sent, StringComparison.Ordinal))
        {
            job.Pieces.Writer.TryWrite(text[job.Sent.Length..]);
            job.Sent = text;
        }
        if (!request.IsFinished) return;
        job.FinishReason = request.FinishReason!;
        _jobs.Remove(request);
        Complete(job, null);
    }

    void Complete(GenerationJob job, Exception? error)
    {
        job.Pieces.Writer.TryComplete(error);
        Interlocked.Decrement(ref _outstanding);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _incoming.Writer.TryComplete();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
