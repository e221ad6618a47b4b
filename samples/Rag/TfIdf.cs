using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace Kiln.Samples.Rag;

/// <summary>Lexical retrieval for comparison: TF-IDF weighted word vectors (stop words dropped), cosine similarity.</summary>
public sealed class TfIdf
{
    readonly HashSet<string> _stop;
    readonly Dictionary<string, double> _idf = new(StringComparer.Ordinal);
    readonly List<Dictionary<string, double>> _documents = [];

    public TfIdf(IEnumerable<string> documents, HashSet<string> stop)
    {
        _stop = stop;
        var counts = documents.Select(Counts).ToList();
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var d in counts) foreach (var w in d.Keys) df[w] = df.GetValueOrDefault(w) + 1;
        foreach (var (w, n) in df) _idf[w] = Math.Log((double)counts.Count / n);
        foreach (var d in counts) _documents.Add(Weigh(d));
    }

    /// <summary>The indices of the <paramref name="k"/> documents most similar to <paramref name="query"/>.</summary>
    public int[] Top(string query, int k)
    {
        var q = Weigh(Counts(query));
        return _documents.Select((d, i) => (Score: q.Sum(kv => kv.Value * d.GetValueOrDefault(kv.Key)), Index: i))
            .OrderByDescending(x => x.Score).Take(k).Select(x => x.Index).ToArray();
    }

    Dictionary<string, int> Counts(string text)
    {
        var c = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(text.ToLowerInvariant(), "[a-z]+"))
            if (m.Value.Length > 2 && !_stop.Contains(m.Value)) c[m.Value] = c.GetValueOrDefault(m.Value) + 1;
        return c;
    }

    Dictionary<string, double> Weigh(Dictionary<string, int> counts)
    {
        var v = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (w, n) in counts) if (_idf.TryGetValue(w, out var idf)) v[w] = n * idf;
        double norm = Math.Sqrt(v.Values.Sum(x => x * x));
        if (norm > 0) foreach (var w in v.Keys.ToList()) v[w] /= norm;
        return v;
    }
}
