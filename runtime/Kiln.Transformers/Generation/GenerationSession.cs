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
    long[] _mask;
    Tensor _logits;
    int _step;

    /// <summary>Prefills <paramref name="inputIds"/> [batch, length] (left-padded rows marked by <paramref name="attentionMask"/>).</summary>
    public GenerationSession(ICausalLM model, Tensor inputIds, GenerationConfig config, Tensor? attentionMask = null, Tokenization.PreTrainedTokenizer? tokenizer = null)
    {
        config.Validate();
        if (inputIds.Dim != 2 || inputIds.Size(1) == 0)
            throw new KilnException("generate", $"generate: input_ids should be [batch, length] with length > 0, got [{string.Join(", ", inputIds.Shape)}]", KilnErrorKind.Shape);
        if (config.StopStrings.Count > 0 && tokenizer is null)
            throw new KilnException("generate", "generate: stop_strings need the tokenizer (pass it to Generate)", KilnErrorKind.Argument);
        _model = model; _config = config; _tokenizer = tokenizer;
        _b = inputIds.Size(0); _s = inputIds.Size(1);
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
        int n = _logits.Size(1), vocab = _logits.Size(2);
        var last = _logits.Narrow(1, n - 1, 1).To(DType.Float32).ToArray<float>();
        var next = new long[_b];
        for (int r = 0; r < _b; r++)
        {
            next[r] = _finished[r] ? _config.PadTokenId : Choose(last.AsSpan(r * vocab, vocab), _rows[r], _config, _generator);
            _rows[r].Add(next[r]);
            if (!_finished[r] && (Contains(_config.EosTokenIds, next[r]) || HitStopString(r))) _finished[r] = true;
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
        _logits = _model.Forward(Tensor.From(next, _b, 1), _cache, Tensor.From(full, _b, total), logitsToKeep: 1);
        return true;
    }

    // A stop string ends the row when the newest token completes it (HF's stop_strings: the string stays in the output).
    bool HitStopString(int r)
    {
        if (_config.StopStrings.Count == 0) return false;
        var g = Generated(r);
        string now = _tokenizer!.Decode(g, skipSpecialTokens: true);
        string before = _tokenizer.Decode(g[..^1], skipSpecialTokens: true);
        foreach (var stop in _config.StopStrings)
            if (stop.Length > 0 && now.Contains(stop, StringComparison.Ordinal) && !before.Contains(stop, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Whether row <paramref name="r"/> has ended (EOS or a stop string).</summary>
    public bool IsFinished(int r) => _finished[r];

    /// <summary>Tokens generated per row so far.</summary>
    public int Steps => _step;

    /// <summary>The prompt and generated tokens of every row [batch, length + steps].</summary>
    public Tensor Result()
    {
        int len = _rows[0].Count;
        var result = new long[_b * len];
        for (int r = 0; r < _b; r++) _rows[r].CopyTo(result, r * len);
        return Tensor.From(result, _b, len);
    }

    /// <summary>One row's next token from its last logits (greedy, or sampled through the config's filters).</summary>
    static long Choose(ReadOnlySpan<float> last, List<long> row, GenerationConfig c, Generator generator)
    {
        var scores = new double[last.Length];
        for (int i = 0; i < scores.Length; i++) scores[i] = last[i];
        if (c.RepetitionPenalty != 1)
            foreach (long t in new HashSet<long>(row))
                if (t >= 0 && t < scores.Length) scores[t] = scores[t] < 0 ? scores[t] * c.RepetitionPenalty : scores[t] / c.RepetitionPenalty;
        if (!c.DoSample) return ArgMax(scores);
        for (int i = 0; i < scores.Length; i++) scores[i] /= c.Temperature;
        var order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (x, y) => scores[y].CompareTo(scores[x]) is var cmp && cmp != 0 ? cmp : x.CompareTo(y));
        int keep = c.TopK > 0 ? Math.Min(c.TopK, order.Length) : order.Length;
        // Probabilities of the kept tokens, most likely first.
        double max = scores[order[0]], sum = 0;
        var p = new double[keep];
        for (int i = 0; i < keep; i++) sum += p[i] = Math.Exp(scores[order[i]] - max);
        for (int i = 0; i < keep; i++) p[i] /= sum;
        if (c.TopP < 1)
        {
            // The smallest prefix whose mass reaches top_p (at least one token).
            double mass = 0;
            int cut = 0;
            while (cut < keep && mass < c.TopP) mass += p[cut++];
            keep = Math.Max(1, cut);
        }
        if (c.MinP is { } minP)
        {
            int cut = 1;
            while (cut < keep && p[cut] >= minP * p[0]) cut++;
            keep = cut;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += p[i];
        double u = Tensor.Rand([1], DType.Float64, generator: generator).Item<double>() * total;
        for (int i = 0; i < keep; i++)
        {
            u -= p[i];
            if (u < 0) return order[i];
        }
        return order[keep - 1];
    }

    static long ArgMax(double[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static bool Contains(IReadOnlyList<long> list, long v)
    {
        foreach (long x in list) if (x == v) return true;
        return false;
    }

    static long[] Ones(int n)
    {
        var a = new long[n];
        Array.Fill(a, 1L);
        return a;
    }
}
