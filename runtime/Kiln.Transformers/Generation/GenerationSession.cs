using System;
using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary>
/// One generation run, stepped by the caller (what <see cref="TextGeneration.Generate"/> loops over): the prompt batch
/// is prefilled into a preallocated KV cache at construction, each <see cref="Step"/> picks every unfinished row's next
/// token and runs the model on it. A server interleaves the steps of many sessions.
/// </summary>
public sealed class GenerationSession
{
    readonly ICausalLM _model;
    readonly GenerationConfig _config;
    readonly Tokenization.PreTrainedTokenizer? _tokenizer;
    readonly Generator _generator;
    readonly List<long>[] _rows;
    readonly bool[] _finished;
    readonly KvCache _cache;
    readonly int _b, _s;
    readonly Device _device;   // the prompt's: new tokens go there, the result comes back there
    long[] _mask;
    Tensor _logits;
    int _step;

    /// <summary>Prefills <paramref name="inputIds"/> [batch, length] (left-padded rows marked by <paramref name="attentionMask"/>).</summary>
    public GenerationSession(ICausalLM model, Tensor inputIds, GenerationConfig config, Tensor? attentionMask = null, Tokenization.PreTrainedTokenizer? tokenizer = null)
    {
        config.Validate();
        config = config.For(model);
        if (inputIds.Dim != 2 || inputIds.Size(1) == 0)
            throw new KilnException("generate", $"generate: input_ids should be [batch, length] with length > 0, got [{string.Join(", ", inputIds.Shape)}]", KilnErrorKind.Shape);
        if (attentionMask is not null && (attentionMask.Dim != 2 || attentionMask.Size(0) != inputIds.Size(0) || attentionMask.Size(1) != inputIds.Size(1)))
            throw new KilnException("generate", $"generate: attention_mask [{string.Join(", ", attentionMask.Shape)}] should match input_ids [{string.Join(", ", inputIds.Shape)}]", KilnErrorKind.Shape);
        if (config.StopStrings.Count > 0 && tokenizer is null)
            throw new KilnException("generate", "generate: stop_strings need the tokenizer (pass it to Generate)", KilnErrorKind.Argument);
        _model = model; _config = config; _tokenizer = tokenizer;
        _b = inputIds.Size(0); _s = inputIds.Size(1);
        _config = config = config with { MaxNewTokens = config.NewTokensFor(_s) };
        _device = inputIds.Device;
        _generator = config.Seed is { } seed ? new Generator(seed) : Generator.Default;
        _rows = new List<long>[_b];
        var ids = inputIds.To(DType.Int64).ToArray<long>();
        for (int r = 0; r < _b; r++) _rows[r] = new List<long>(ids.AsSpan(r * _s, _s).ToArray());
        _mask = attentionMask is null ? Ones(_b * _s) : attentionMask.To(DType.Int64).ToArray<long>();
        _finished = new bool[_b];
        using var noGrad = Autograd.NoGrad();
        _cache = model.CreateCache(_b, _s + Math.Max(1, config.MaxNewTokens));
        _logits = model.Forward(inputIds.To(DType.Int64), _cache, Tensor.From(_mask, _b, _s), logitsToKeep: 1);
    }

    /// <summary>The tokens generated so far in row <paramref name="r"/>.</summary>
    public int[] Generated(int r)
    {
        var row = _rows[r];
        var g = new int[row.Count - _s];
        for (int i = 0; i < g.Length; i++) g[i] = (int)row[_s + i];
        return g;
    }

    /// <summary>Picks every row's next token; false once every row has finished or the budget is spent.</summary>
    public bool Step()
    {
        if (_step >= _config.MaxNewTokens || Array.TrueForAll(_finished, f => f)) return false;
        using var noGrad = Autograd.NoGrad();
        using var scope = Tensor.Scope();   // the step's host copies and inputs; the previous logits go below
        int n = _logits.Size(1), vocab = _logits.Size(2);
        // Tokens are chosen on the host (sampling, penalties and stop strings read the rows there).
        var last = _logits.Narrow(1, n - 1, 1).To(DType.Float32).Cpu().Contiguous();
        var next = new long[_b];
        for (int r = 0; r < _b; r++)
        {
            next[r] = _finished[r] ? _config.PadTokenId!.Value : TokenChoice.Choose(last.AsSpan<float>().Slice(r * vocab, vocab), _rows[r], _config, _generator);
            _rows[r].Add(next[r]);
            if (!_finished[r] && (TokenChoice.IsEos(_config, next[r]) || HitStopString(r))) _finished[r] = true;
        }
        _step++;
        if (Array.TrueForAll(_finished, f => f) || _step == _config.MaxNewTokens) return false;
        int total = _s + _step;
        var full = new long[_b * total];
        for (int r = 0; r < _b; r++)
        {
            for (int k = 0; k < total - 1; k++) full[r * total + k] = _mask[r * (total - 1) + k];
            full[r * total + total - 1] = 1;
        }
        _mask = full;
        var previous = _logits;
        _logits = _model.Forward(Tensor.From(next, _b, 1).To(_device), _cache, Tensor.From(full, _b, total), logitsToKeep: 1);
        TensorScope.Exempt(_logits);   // read by the next step, past this one's scope and any scope around the loop
        previous.Dispose();
        return true;
    }

    bool HitStopString(int r) => _config.StopStrings.Count > 0 && TokenChoice.HitsStopString(_tokenizer!, Generated(r), _config.StopStrings);

    /// <summary>Whether row <paramref name="r"/> has ended (EOS or a stop string).</summary>
    public bool IsFinished(int r) => _finished[r];

    /// <summary>Tokens generated per row so far.</summary>
    public int Steps => _step;

    /// <summary>The prompt and generated tokens of every row [batch, length + steps], on the prompt's device.</summary>
    public Tensor Result()
    {
        int len = _rows[0].Count;
        var result = new long[_b * len];
        for (int r = 0; r < _b; r++) _rows[r].CopyTo(result, r * len);
        return Tensor.From(result, _b, len).To(_device);
    }

    static long[] Ones(int n)
    {
        var a = new long[n];
        Array.Fill(a, 1L);
        return a;
    }
}
