using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.Transformers.Tokenization;

namespace Kiln.Samples;

/// <summary>
/// GPT-2's tokens that occur in a training text, renumbered 1..n (0 is <c>&lt;|endoftext|&gt;</c> and stands in for any
/// token the text never used): a small model's embedding table then holds only the tokens it can learn.
/// </summary>
public sealed class CompactVocabulary
{
    readonly Dictionary<int, int> _toCompact = new();
    readonly List<int> _toGpt2;

    CompactVocabulary(List<int> toGpt2)
    {
        _toGpt2 = toGpt2;
        for (int i = 0; i < toGpt2.Count; i++) _toCompact.TryAdd(toGpt2[i], i);
    }

    /// <summary>The vocabulary of the tokens in <paramref name="gpt2Ids"/>, in order of first use.</summary>
    public static CompactVocabulary Build(IEnumerable<int> gpt2Ids, int endOfText)
    {
        var list = new List<int> { endOfText };
        var seen = new HashSet<int> { endOfText };
        foreach (int t in gpt2Ids) if (seen.Add(t)) list.Add(t);
        return new CompactVocabulary(list);
    }

    /// <summary>Entries.</summary>
    public int Count => _toGpt2.Count;
    /// <summary>The compact id of a GPT-2 id (0 when unseen).</summary>
    public int Compact(int gpt2Id) => _toCompact.TryGetValue(gpt2Id, out int c) ? c : 0;
    /// <summary>Text to compact ids.</summary>
    public int[] Encode(PreTrainedTokenizer tokenizer, string text) => tokenizer.Encode(text).Select(Compact).ToArray();
    /// <summary>Compact ids to text.</summary>
    public string Decode(PreTrainedTokenizer tokenizer, IEnumerable<long> ids) => tokenizer.Decode(ids.Select(i => _toGpt2[(int)i]));
    /// <summary>Writes the GPT-2 id of each compact id as a JSON array.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(_toGpt2));
    /// <summary>Reads what <see cref="Save"/> wrote.</summary>
    public static CompactVocabulary Load(string path) => new(JsonSerializer.Deserialize<List<int>>(File.ReadAllText(path))!);
}
