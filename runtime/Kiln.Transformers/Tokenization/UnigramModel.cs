using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// SentencePiece's Unigram model in tokenizer.json (<c>"type": "Unigram"</c>: T5, ALBERT, XLNet-style vocabularies of
/// [piece, log-probability]): each pre-tokenized word is split by Viterbi into the pieces of highest total score, as
/// Hugging Face's tokenizers does — candidates by increasing length, a later candidate only wins with a strictly higher
/// score, a character no piece starts with becomes the unknown piece at (lowest score − 10), consecutive unknowns fused
/// into one; with <c>byte_fallback</c> an unknown character becomes its UTF-8 bytes as <c>&lt;0xNN&gt;</c> pieces.
/// Normalizers: those of <see cref="TextNormalizer"/> (SentencePiece's Precompiled charsmap included); pre-tokenizers:
/// Metaspace and WhitespaceSplit.
/// </summary>
internal sealed class UnigramModel : ISegmentModel
{
    const double UnknownPenalty = 10.0;
    readonly string[] _pieces;
    readonly double[] _scores;
    readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    readonly int _unk, _maxPieceLength;
    readonly double _unkScore;
    readonly bool _byteFallback;
    readonly int[]? _byteIds;
    readonly Func<string, string> _normalize;
    readonly char _metaspace;
    readonly string _prependScheme;
    readonly bool _metaspaceSplit, _whitespaceSplit, _hasMetaspace;

    public UnigramModel(JsonElement model, JsonElement normalizer, JsonElement preTokenizer, string file)
    {
        var vocab = model.GetProperty("vocab");
        _pieces = new string[vocab.GetArrayLength()];
        _scores = new double[_pieces.Length];
        double min = double.MaxValue;
        int i = 0;
        foreach (var entry in vocab.EnumerateArray())
        {
            _pieces[i] = entry[0].GetString() ?? throw Bad(file, $"vocab entry {i} has no piece");
            _scores[i] = RustJsonFloat.Read(entry[1]);
            _ids.TryAdd(_pieces[i], i);
            min = Math.Min(min, _scores[i]);
            _maxPieceLength = Math.Max(_maxPieceLength, _pieces[i].Length);
            i++;
        }
        _unk = model.TryGetProperty("unk_id", out var u) && u.ValueKind == JsonValueKind.Number ? u.GetInt32() : -1;
        _unkScore = (_pieces.Length == 0 ? 0 : min) - UnknownPenalty;
        _byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
        if (_byteFallback)
        {
            _byteIds = new int[256];
            for (int b = 0; b < 256; b++)
                _byteIds[b] = _ids.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        }
        _normalize = TextNormalizer.Build(normalizer, file);
        _metaspace = '\u2581';
        _prependScheme = "never";
        if (preTokenizer.ValueKind == JsonValueKind.Object) ReadPreTokenizer(preTokenizer, file, ref _hasMetaspace, ref _metaspaceSplit, ref _whitespaceSplit, ref _metaspace, ref _prependScheme);
    }

    static KilnException Bad(string file, string what) => new("tokenizer", $"tokenizer: {file}: {what}", KilnErrorKind.Format);

    static void ReadPreTokenizer(JsonElement p, string file, ref bool metaspace, ref bool split, ref bool whitespace, ref char replacement, ref string prepend)
    {
        switch (p.GetProperty("type").GetString())
        {
            case "Sequence":
                foreach (var inner in p.GetProperty("pretokenizers").EnumerateArray()) ReadPreTokenizer(inner, file, ref metaspace, ref split, ref whitespace, ref replacement, ref prepend);
                break;
            case "Metaspace":
                metaspace = true;
                replacement = (p.TryGetProperty("replacement", out var r) ? r.GetString() : null) is { Length: 1 } rs ? rs[0] : '\u2581';
                split = !p.TryGetProperty("split", out var sp) || sp.GetBoolean();
                // Older files say add_prefix_space; newer ones prepend_scheme (always, first, never).
                prepend = p.TryGetProperty("prepend_scheme", out var ps) ? ps.GetString() ?? "always"
                    : p.TryGetProperty("add_prefix_space", out var aps) && !aps.GetBoolean() ? "never" : "always";
                break;
            case "WhitespaceSplit": whitespace = true; break;
            case var other:
                throw new KilnException("tokenizer", $"tokenizer: {file}: pre-tokenizer '{other}' with a Unigram model is not supported (Metaspace, WhitespaceSplit)", KilnErrorKind.Unsupported);
        }
    }

    public int VocabSize => _pieces.Length;

    public int? IdOf(string token) => _ids.TryGetValue(token, out int id) ? id : null;

    public void Encode(string segment, List<int> ids)
    {
        segment = _normalize(segment);
        if (segment.Length == 0) return;
        foreach (var word in PreTokenize(segment)) Viterbi(word, ids);
    }

    /// <summary>The words the pre-tokenizer yields: spaces as ▁ with a leading one, split before each ▁; or whitespace runs.</summary>
    List<string> PreTokenize(string text)
    {
        var words = new List<string>();
        if (_whitespaceSplit && !_hasMetaspace)
        {
            foreach (var w in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)) words.Add(w);
            return words;
        }
        if (!_hasMetaspace) { words.Add(text); return words; }
        string s = text.Replace(' ', _metaspace);
        if (_prependScheme is "always" or "first" && s[0] != _metaspace) s = _metaspace + s;
        if (!_metaspaceSplit) { words.Add(s); return words; }
        int start = 0;
        for (int i = 1; i <= s.Length; i++)
            if (i == s.Length || s[i] == _metaspace)
            {
                words.Add(s[start..i]);
                start = i;
            }
        return words;
    }

    /// <summary>Hugging Face's Viterbi (encode_optimized) over the characters (code points) of <paramref name="word"/>.</summary>
    void Viterbi(string word, List<int> ids)
    {
        // Positions are UTF-16 indices at code point starts; best[pos] is the best path ending there.
        int n = word.Length;
        var score = new double[n + 1];
        var from = new int[n + 1];
        var piece = new int[n + 1];
        Array.Fill(from, -1);
        for (int start = 0; start < n; start = Next(word, start))
        {
            if (start > 0 && from[start] < 0) continue;   // not reachable (inside a surrogate pair)
            double here = score[start];
            bool single = false;
            int charEnd = Next(word, start);
            for (int end = charEnd; end <= n && end - start <= _maxPieceLength; end = Next(word, end))
            {
                if (_ids.TryGetValue(word.Substring(start, end - start), out int id))
                {
                    double candidate = _scores[id] + here;
                    if (from[end] < 0 || candidate > score[end]) { score[end] = candidate; from[end] = start; piece[end] = id; }
                    if (end == charEnd) single = true;
                }
                if (end == n) break;
            }
            if (!single)
            {
                double candidate = _unkScore + here;
                if (from[charEnd] < 0 || candidate > score[charEnd]) { score[charEnd] = candidate; from[charEnd] = start; piece[charEnd] = -1; }
            }
        }
        var path = new List<(int Start, int End, int Id)>();
        for (int end = n; end > 0; end = from[end]) path.Add((from[end], end, piece[end]));
        path.Reverse();
        for (int k = 0; k < path.Count; k++)
        {
            var (s, e, id) = path[k];
            if (id >= 0) { ids.Add(id); continue; }
            // Unknown: with byte fallback each character's UTF-8 bytes; else one unknown for the run of them.
            if (_byteFallback && ByteIds(word.Substring(s, e - s), ids)) continue;
            if (_unk < 0) throw new KilnException("tokenizer", $"tokenizer: '{word.Substring(s, e - s)}' is not in the vocabulary and the model has no unk_id", KilnErrorKind.Argument);
            if (k > 0 && path[k - 1].Id < 0) continue;   // fused with the previous unknown
            ids.Add(_unk);
        }
    }

    bool ByteIds(string text, List<int> ids)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        foreach (var b in bytes) if (_byteIds![b] < 0) return false;
        foreach (var b in bytes) ids.Add(_byteIds![b]);
        return true;
    }

    static int Next(string s, int i) => i + (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1);

    public string Decode(IReadOnlyList<int> ids)
    {
        var sb = new StringBuilder();
        var pending = new List<byte>();
        void Flush()
        {
            if (pending.Count == 0) return;
            sb.Append(Encoding.UTF8.GetString(pending.ToArray()));
            pending.Clear();
        }
        foreach (var id in ids)
        {
            string p = id >= 0 && id < _pieces.Length ? _pieces[id] : "";
            if (_byteFallback && p.Length == 6 && p.StartsWith("<0x", StringComparison.Ordinal) && p[5] == '>'
                && byte.TryParse(p.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
            {
                pending.Add(b);
                continue;
            }
            Flush();
            sb.Append(p);
        }
        Flush();
        string text = sb.ToString();
        if (!_hasMetaspace) return text;
        text = text.Replace(_metaspace, ' ');
        return _prependScheme is "always" or "first" && text.StartsWith(' ') ? text[1..] : text;
    }
}
