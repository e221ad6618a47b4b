using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// Byte-level BPE (GPT-2, Llama 3, Qwen): optional NFC, the pre-tokenizer's split patterns applied here, each piece's
/// UTF-8 bytes merged by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> fed with the file's vocabulary and merges.
/// <c>ignore_merges</c>: a piece that is itself in the vocabulary is one token.
/// </summary>
internal sealed class ByteLevelBpeModel : ISegmentModel
{
    readonly BpeTokenizer _bpe;
    readonly Dictionary<string, int> _vocab;
    readonly Regex[] _splits;
    readonly bool _nfc, _ignoreMerges, _addPrefixSpace;

    public ByteLevelBpeModel(Dictionary<string, int> vocab, List<string> merges, Regex[] splits, bool nfc, bool ignoreMerges, bool addPrefixSpace)
    {
        _vocab = vocab; _splits = splits; _nfc = nfc; _ignoreMerges = ignoreMerges; _addPrefixSpace = addPrefixSpace;
        _bpe = BpeTokenizer.Create(new BpeOptions(vocab) { Merges = merges, ByteLevel = true });
    }

    public int VocabSize => _vocab.Count;

    public int? IdOf(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    public void Encode(string segment, List<int> ids)
    {
        if (segment.Length == 0) return;
        if (_nfc) segment = segment.Normalize(NormalizationForm.FormC);
        if (_addPrefixSpace && segment[0] != ' ') segment = " " + segment;
        var pieces = new List<string> { segment };
        foreach (var split in _splits) pieces = Isolate(pieces, split);
        foreach (var piece in pieces)
        {
            if (_ignoreMerges && _vocab.TryGetValue(ByteLevel.Encode(piece), out int whole)) { ids.Add(whole); continue; }
            ids.AddRange(_bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
        }
    }

    /// <summary>HF's Split with behavior "Isolated": every match a piece, and the text between matches too.</summary>
    static List<string> Isolate(List<string> pieces, Regex pattern)
    {
        var result = new List<string>();
        foreach (var p in pieces)
        {
            int at = 0;
            for (var m = pattern.Match(p); m.Success; m = m.NextMatch())
            {
                if (m.Length == 0) continue;
                if (m.Index > at) result.Add(p[at..m.Index]);
                result.Add(m.Value);
                at = m.Index + m.Length;
            }
            if (at < p.Length) result.Add(p[at..]);
        }
        return result;
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
            if (TokenOf(id) is { } t) ByteLevel.AppendBytes(t, bytes);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    Dictionary<int, string>? _inverse;

    string? TokenOf(int id)
    {
        if (_inverse is null)
        {
            var inv = new Dictionary<int, string>(_vocab.Count);
            foreach (var (k, v) in _vocab) inv[v] = k;
            _inverse = inv;
        }
        return _inverse.GetValueOrDefault(id);
    }
}
