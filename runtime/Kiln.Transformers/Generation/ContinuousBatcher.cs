using System;
using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary>
/// Continuous batching over a <see cref="PagedKvCache"/> (as vLLM serves): requests join and leave between steps, and
/// every step runs one forward for all running requests' next tokens together, so the weights are read once per step
/// rather than once per request. Each step first admits waiting requests while the pool has blocks for their prompts
/// (one prefill each), then decodes. When the running requests outgrow the pool, the most recently admitted one is
/// preempted: its blocks are freed, it goes back to the front of the queue, and its keys and values are recomputed when
/// it returns — its output is unchanged. Tokens are chosen exactly as <see cref="TextGeneration.Generate"/> chooses
/// them for a batch of one (each request seeded by its own config).
/// </summary>
public sealed class ContinuousBatcher
{
    readonly ICausalLM _model;
    readonly Tokenization.PreTrainedTokenizer? _tokenizer;
    readonly LinkedList<GenerationRequest> _waiting = new();
    readonly List<GenerationRequest> _running = [];

    /// <summary>
    /// A batcher for <paramref name="model"/> whose keys and values live in <paramref name="cache"/> (from
    /// <see cref="ICausalLM.CreatePagedCache"/>); at most <paramref name="maxBatch"/> requests decode together.
    /// <paramref name="tokenizer"/> is needed for stop strings.
    /// </summary>
    public ContinuousBatcher(ICausalLM model, PagedKvCache cache, Tokenization.PreTrainedTokenizer? tokenizer = null, int maxBatch = 32)
    {
        if (maxBatch <= 0) throw new KilnException("continuous_batching", $"continuous_batching: max_batch must be positive, got {maxBatch}", KilnErrorKind.Argument);
        _model = model; Cache = cache; _tokenizer = tokenizer; MaxBatch = maxBatch;
    }

    /// <summary>The block pool.</summary>
    public PagedKvCache Cache { get; }
    /// <summary>Requests decoded together at most.</summary>
    public int MaxBatch { get; }
    /// <summary>Requests waiting for admission (new or preempted).</summary>
    public int Waiting => _waiting.Count;
    /// <summary>Requests holding blocks and decoding.</summary>
    public int Running => _running.Count;
    /// <summary>Whether a <see cref="Step"/> has anything to do.</summary>
    public bool HasWork => _waiting.Count > 0 || _running.Count > 0;
    /// <summary>Preemptions so far (all requests).</summary>
    public int Preemptions { get; private set; }
    /// <summary>The most requests one decode forward has carried so far.</summary>
    public int LargestBatch { get; private set; }

    /// <summary>
    /// Queues <paramref name="prompt"/> to be continued under <paramref name="config"/>. A prompt that could not fit the
    /// pool even alone (prompt + max_new_tokens positions) is refused here.
    /// </summary>
    public GenerationRequest Add(long[] prompt, GenerationConfig config)
    {
        config.Validate();
        config = config.For(_model);
        if (prompt.Length == 0) throw new KilnException("continuous_batching", "continuous_batching: the prompt is empty", KilnErrorKind.Argument);
        config = config with { MaxNewTokens = config.NewTokensFor(prompt.Length) };
        if (config.StopStrings.Count > 0 && _tokenizer is null)
            throw new KilnException("continuous_batching", "continuous_batching: stop_strings need the tokenizer (pass it to the batcher)", KilnErrorKind.Argument);
        long positions = (long)prompt.Length + config.MaxNewTokens, capacity = (long)Cache.BlockCount * Cache.BlockSize;
        if (positions > capacity)
            throw new KilnException("continuous_batching", $"continuous_batching: {prompt.Length} prompt + {config.MaxNewTokens} new tokens exceed the pool's {capacity} positions", KilnErrorKind.Argument);
        var request = new GenerationRequest(prompt, config);
        _waiting.AddLast(request);
        return request;
    }

    /// <summary>Ends <paramref name="request"/> ("cancelled") at the next step, freeing its blocks.</summary>
    public void Cancel(GenerationRequest request) => request.CancelRequested = true;

    /// <summary>
    /// Admits what fits, then decodes one token for every running request. Returns the requests that gained a token or
    /// finished in this step (a finished request's blocks are already back in the pool).
    /// </summary>
    public IReadOnlyList<GenerationRequest> Step()
    {
        var changed = new List<GenerationRequest>();
        using var noGrad = Autograd.NoGrad();
        RetireCancelled(changed);
        Admit(changed);
        Decode(changed);
        for (int i = _running.Count - 1; i >= 0; i--)
            if (_running[i].IsFinished) { Release(_running[i]); _running.RemoveAt(i); }
        return changed;
    }

    void RetireCancelled(List<GenerationRequest> changed)
    {
        for (var node = _waiting.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.CancelRequested) { Finish(node.Value, "cancelled", changed); _waiting.Remove(node); }
            node = next;
        }
        for (int i = _running.Count - 1; i >= 0; i--)
            if (_running[i].CancelRequested) { Finish(_running[i], "cancelled", changed); Release(_running[i]); _running.RemoveAt(i); }
    }

    // A new request prefills its prompt and picks its first token; a preempted one recomputes all but its newest token
    // (which the decode feeds next), its logits unused.
    void Admit(List<GenerationRequest> changed)
    {
        while (_waiting.First is { } node && _running.Count < MaxBatch)
        {
            var r = node.Value;
            if (r.Config.MaxNewTokens == 0) { _waiting.RemoveFirst(); Finish(r, "length", changed); continue; }
            r.Sequence ??= Cache.NewSequence();
            int fill = r.Preempted ? r.Tokens.Count - 1 : r.Tokens.Count;
            if (Cache.BlocksNeeded(r.Sequence, fill + 1) > Cache.FreeBlocks) break;
            _waiting.RemoveFirst();
            var ids = new long[fill];
            r.Tokens.CopyTo(0, ids, 0, fill);
            var logits = _model.Forward(Tensor.From(ids, 1, fill), Cache.Step([r.Sequence], fill), null, logitsToKeep: 1);
            _running.Add(r);
            if (r.Preempted) { r.Preempted = false; continue; }
            Choose(r, logits.To(DType.Float32).Contiguous().AsSpan<float>(), changed);
        }
    }

    void Decode(List<GenerationRequest> changed)
    {
        var rows = new List<GenerationRequest>(_running.Count);
        foreach (var r in _running) if (!r.IsFinished) rows.Add(r);
        while (rows.Count > 0 && BlocksNeeded(rows) > Cache.FreeBlocks) Preempt(rows);
        if (rows.Count == 0) return;
        LargestBatch = Math.Max(LargestBatch, rows.Count);
        var sequences = new PagedSequence[rows.Count];
        var last = new long[rows.Count];
        for (int i = 0; i < rows.Count; i++) { sequences[i] = rows[i].Sequence!; last[i] = rows[i].Tokens[^1]; }
        var logits = _model.Forward(Tensor.From(last, rows.Count, 1), Cache.Step(sequences, 1), null, logitsToKeep: 1).To(DType.Float32).Contiguous();
        int vocab = logits.Size(2);
        for (int i = 0; i < rows.Count; i++) Choose(rows[i], logits.AsSpan<float>().Slice(i * vocab, vocab), changed);
    }

    int BlocksNeeded(List<GenerationRequest> rows)
    {
        int need = 0;
        foreach (var r in rows) need += Cache.BlocksNeeded(r.Sequence!, 1);
        return need;
    }

    // The most recently admitted running request gives its blocks back and waits at the front of the queue.
    void Preempt(List<GenerationRequest> rows)
    {
        var victim = rows[^1];
        rows.RemoveAt(rows.Count - 1);
        _running.Remove(victim);
        Release(victim);
        victim.Preempted = true;
        victim.Preemptions++;
        Preemptions++;
        _waiting.AddFirst(victim);
    }

    void Choose(GenerationRequest r, ReadOnlySpan<float> logits, List<GenerationRequest> changed)
    {
        long token = TokenChoice.Choose(logits, r.Tokens, r.Config, r.Generator);
        r.Tokens.Add(token);
        changed.Add(r);
        if (TokenChoice.IsEos(r.Config, token) || (r.Config.StopStrings.Count > 0 && TokenChoice.HitsStopString(_tokenizer!, r.Generated(), r.Config.StopStrings)))
            r.FinishReason = "stop";
        else if (r.GeneratedCount >= r.Config.MaxNewTokens) r.FinishReason = "length";
    }

    static void Finish(GenerationRequest r, string reason, List<GenerationRequest> changed)
    {
        r.FinishReason ??= reason;
        changed.Add(r);
    }

    void Release(GenerationRequest r)
    {
        if (r.Sequence is { } s) Cache.Free(s);
    }
}
