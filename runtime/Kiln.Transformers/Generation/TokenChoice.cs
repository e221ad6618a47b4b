using System;
using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary>How generation picks a row's next token and decides that a row has ended — shared by <see cref="GenerationSession"/> and <see cref="ContinuousBatcher"/>.</summary>
internal static class TokenChoice
{
    /// <summary>One row's next token from its last logits (greedy, or sampled through the config's filters).</summary>
    public static long Choose(ReadOnlySpan<float> last, List<long> row, GenerationConfig c, Generator generator)
    {
        // Plain greedy (the serving hot path) reads the logits in place: no copy of a vocabulary-wide row per token.
        if (!c.DoSample && c.RepetitionPenalty == 1) return ArgMax(last);
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

    static long ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static long ArgMax(double[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /// <summary>Whether <paramref name="token"/> is one of the config's EOS tokens.</summary>
    public static bool IsEos(GenerationConfig c, long token)
    {
        foreach (long x in c.EosTokenIds ?? []) if (x == token) return true;
        return false;
    }

    /// <summary>
    /// Whether the newest of <paramref name="generated"/> completes one of <paramref name="stops"/> (Hugging Face's
    /// stop_strings: the string stays in the output).
    /// </summary>
    public static bool HitsStopString(Tokenization.PreTrainedTokenizer tokenizer, int[] generated, IReadOnlyList<string> stops)
    {
        string now = tokenizer.Decode(generated, skipSpecialTokens: true);
        string before = tokenizer.Decode(generated[..^1], skipSpecialTokens: true);
        foreach (var stop in stops)
            if (stop.Length > 0 && now.Contains(stop, StringComparison.Ordinal) && !before.Contains(stop, StringComparison.Ordinal)) return true;
        return false;
    }
}
