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
    internal GenerationSession? Session;
    internal string Sent = "";
}

/// <summary>
/// Continuous scheduling on one model: a single loop owns the model; each turn it admits waiting requests (prefill),
/// then advances every active request by one token, streams the new text, and retires finished or cancelled ones, so a
/// new request starts at the next turn instead of waiting for the longest one in flight. Each request keeps its own KV
/// cache (no batched decode or paged cache yet). At most <c>maxActive</c> run at once; more wait in the queue, and a
/// full queue is refused.
/// </summary>
public sealed class Scheduler : IDisposable
{
    readonly ICausalLM _model;
    readonly PreTrainedTokenizer _tokenizer;
    readonly Channel<GenerationJob> _queue;
    readonly int _maxActive;
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;

    public Scheduler(ICausalLM model, PreTrainedTokenizer tokenizer, int maxActive = 8, int maxQueued = 64)
    {
        _model = model; _tokenizer = tokenizer; _maxActive = maxActive;
        _queue = Channel.CreateBounded<GenerationJob>(new BoundedChannelOptions(maxQueued) { FullMode = BoundedChannelFullMode.Wait });
        _loop = Task.Factory.StartNew(Loop, TaskCreationOptions.LongRunning);
    }

    /// <summary>Queues <paramref name="job"/>; false when the queue is full (the caller answers 429).</summary>
    public bool TrySubmit(GenerationJob job) => _queue.Writer.TryWrite(job);

    void Loop()
    {
        var active = new List<GenerationJob>();
        while (!_stop.IsCancellationRequested)
        {
            while (active.Count < _maxActive && _queue.Reader.TryRead(out var job)) Start(job, active);
            if (active.Count == 0)
            {
                try { _queue.Reader.WaitToReadAsync(_stop.Token).AsTask().Wait(); }
                catch (AggregateException) { return; }
                continue;
            }
            for (int i = active.Count - 1; i >= 0; i--)
            {
                var job = active[i];
                bool more;
                try
                {
                    if (job.Cancelled.IsCancellationRequested) { job.FinishReason = "cancelled"; more = false; }
                    else more = Advance(job);
                }
                catch (Exception e) { job.Pieces.Writer.TryComplete(e); active.RemoveAt(i); continue; }
                if (!more) { job.Pieces.Writer.TryComplete(); active.RemoveAt(i); }
            }
        }
    }

    void Start(GenerationJob job, List<GenerationJob> active)
    {
        try
        {
            job.Session = new GenerationSession(_model, Tensor.From(job.Prompt, 1, job.Prompt.Length), job.Config, tokenizer: _tokenizer);
            active.Add(job);
        }
        catch (Exception e) { job.Pieces.Writer.TryComplete(e); }
    }

    /// <summary>One token for <paramref name="job"/>; false when it has finished.</summary>
    bool Advance(GenerationJob job)
    {
        var session = job.Session!;
        bool more = session.Step();
        var generated = session.Generated(0);
        job.CompletionTokens = generated.Length;
        string text = _tokenizer.Decode(generated, skipSpecialTokens: true);
        // Hold back a trailing replacement character: the next token may complete the UTF-8 sequence.
        if (!(more && text.EndsWith('\uFFFD')) && text.Length > job.Sent.Length && text.StartsWith(job.Sent, StringComparison.Ordinal))
        {
            job.Pieces.Writer.TryWrite(text[job.Sent.Length..]);
            job.Sent = text;
        }
        if (!more) job.FinishReason = session.IsFinished(0) ? "stop" : "length";
        return more;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _queue.Writer.TryComplete();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
