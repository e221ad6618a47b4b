using System;
using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary><c>model.generate</c>: prefill in one pass, then one cached step per token.</summary>
public static class TextGeneration
{
    /// <summary>
    /// The rows of <paramref name="inputIds"/> [batch, length] (int64) continued by up to <c>MaxNewTokens</c> tokens each
    /// ([batch, length + generated]). <paramref name="attentionMask"/> marks padding (left-pad batched prompts); the keys
    /// and values live in a cache allocated once for the whole run.
    /// </summary>
    public static Tensor Generate(this ICausalLM model, Tensor inputIds, GenerationConfig? config = null, Tensor? attentionMask = null)
    {
        config ??= new GenerationConfig();
        config.Validate();
        if (inputIds.Dim != 2 || inputIds.Size(1) == 0)
            throw new KilnException("generate", $"generate: input_ids should be [batch, length] with length > 0, got [{string.Join(", ", inputIds.Shape)}]", KilnErrorKind.Shape);
        int b = inputIds.Size(0), s = inputIds.Size(1);
        var generator = config.Seed is { } seed ? new Generator(seed) : Generator.Default;
        var rows = new List<long>[b];
        var ids = inputIds.To(DType.Int64).ToArray<long>();
        for (int r = 0; r < b; r++) rows[r] = new List<long>(ids.AsSpan(r * s, s).ToArray());
        var mask = attentionMask is null ? Ones(b * s) : attentionMask.To(DType.Int64).ToArray<long>();
        var finished = new bool[b];
        using var noGrad = Autograd.NoGrad();
        var cache = model.CreateCache(b, s + Math.Max(1, config.MaxNewTokens));
        var logits = model.Forward(inputIds.To(DType.Int64), cache, Tensor.From(mask, b, s), logitsToKeep: 1);
        for (int step = 0; step < config.MaxNewTokens; step++)
        {
            int n = logits.Size(1), vocab = logits.Size(2);
            var last = logits.Narrow(1, n - 1, 1).To(DType.Float32).ToArray<float>();
            var next = new long[b];
            for (int r = 0; r < b; r++)
            {
                next[r] = finished[r] ? config.PadTokenId : Choose(last.AsSpan(r * vocab, vocab), rows[r], config, generator);
                rows[r].Add(next[r]);
                if (!finished[r] && Contains(config.EosTokenIds, next[r])) finished[r] = true;
            }
            if (Array.TrueForAll(finished, f => f) || step == config.MaxNewTokens - 1) break;
            int total = s + step + 1;
            var full = new long[b * total];
            for (int r = 0; r < b; r++)
            {
                for (int k = 0; k < total - 1; k++) full[r * total + k] = mask[r * (total - 1) + k];
                full[r * total + total - 1] = 1;
            }
            mask = full;
            logits = model.Forward(Tensor.From(next, b, 1), cache, Tensor.From(full, b, total), logitsToKeep: 1);
        }
        int len = rows[0].Count;
        var result = new long[b * len];
        for (int r = 0; r < b; r++) rows[r].CopyTo(result, r * len);
        return Tensor.From(result, b, len);
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
