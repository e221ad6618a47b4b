using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// BERT's WordPiece as Hugging Face's tokenizers runs it: the BERT normalizer (control characters dropped, whitespace to
/// spaces, spaces around CJK ideographs, lower case, accents stripped through NFD), the BERT pre-tokenizer (split on
/// whitespace, every punctuation character its own word), then greedy longest-match pieces with the <c>##</c> prefix, a
/// word with no match (or over 100 characters) one <c>[UNK]</c>. Written here rather than through
/// Microsoft.ML.Tokenizers' BertTokenizer, whose splitting and accent handling give different ids (tabs, Hangul).
/// </summary>
internal sealed class WordPieceModel : ISegmentModel
{
    readonly Dictionary<string, int> _vocab;
    readonly Dictionary<int, string> _inverse = new();
    readonly bool _lowerCase, _stripAccents, _chineseChars;
    readonly int _unk;
    const string Prefix = "##";
    const int MaxCharsPerWord = 100;

    public WordPieceModel(Dictionary<string, int> vocab, bool lowerCase, bool? stripAccents, bool chineseChars, string unk)
    {
        _vocab = vocab; _lowerCase = lowerCase; _stripAccents = stripAccents ?? lowerCase; _chineseChars = chineseChars;
        _unk = vocab.TryGetValue(unk, out int u) ? u : throw new KilnException("tokenizer", $"tokenizer: the WordPiece vocabulary has no unknown token '{unk}'", KilnErrorKind.Format);
        foreach (var (k, v) in vocab) _inverse[v] = k;
    }

    public int VocabSize => _vocab.Count;

    public int? IdOf(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    public void Encode(string segment, List<int> ids)
    {
        foreach (var word in Words(Normalize(segment))) Pieces(word, ids);
    }

    string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            int width = char.IsSurrogatePair(text, i) ? 2 : 1;
            int cp = width == 2 ? char.ConvertToUtf32(text, i) : text[i];
            var cat = CharUnicodeInfo.GetUnicodeCategory(text, i);
            if (cp == 0 || cp == 0xFFFD || (IsControl(cp, cat))) { i += width - 1; continue; }
            if (IsWhitespace(cp, cat)) sb.Append(' ');
            else if (_chineseChars && IsCjk(cp)) sb.Append(' ').Append(text, i, width).Append(' ');
            else sb.Append(text, i, width);
            i += width - 1;
        }
        string s = sb.ToString();
        if (_stripAccents)
        {
            var nfd = s.Normalize(NormalizationForm.FormD);
            var kept = new StringBuilder(nfd.Length);
            foreach (char c in nfd) if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) kept.Append(c);
            s = kept.ToString();
        }
        return _lowerCase ? s.ToLowerInvariant() : s;
    }

    static IEnumerable<string> Words(string text)
    {
        var word = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            int width = char.IsSurrogatePair(text, i) ? 2 : 1;
            int cp = width == 2 ? char.ConvertToUtf32(text, i) : text[i];
            var cat = CharUnicodeInfo.GetUnicodeCategory(text, i);
            if (IsWhitespace(cp, cat))
            {
                if (word.Length > 0) { yield return word.ToString(); word.Clear(); }
            }
            else if (IsPunctuation(cp, cat))
            {
                if (word.Length > 0) { yield return word.ToString(); word.Clear(); }
                yield return text.Substring(i, width);
            }
            else word.Append(text, i, width);
            i += width - 1;
        }
        if (word.Length > 0) yield return word.ToString();
    }

    void Pieces(string word, List<int> ids)
    {
        int chars = 0;
        for (int i = 0; i < word.Length; i++) if (!char.IsLowSurrogate(word[i])) chars++;
        if (chars > MaxCharsPerWord) { ids.Add(_unk); return; }
        int mark = ids.Count, start = 0;
        while (start < word.Length)
        {
            int end = word.Length, found = -1;
            while (end > start)
            {
                string piece = start > 0 ? Prefix + word[start..end] : word[start..end];
                if (_vocab.TryGetValue(piece, out int id)) { found = id; break; }
                end--;
                if (end > start && char.IsLowSurrogate(word[end])) end--;   // never split a surrogate pair
            }
            if (found < 0) { ids.RemoveRange(mark, ids.Count - mark); ids.Add(_unk); return; }
            ids.Add(found);
            start = end;
        }
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        // HF's WordPiece decoder: pieces joined by spaces, "##" glued to the previous piece, then its clean-up of spaces
        // before punctuation and contractions.
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            if (!_inverse.TryGetValue(id, out var t)) continue;
            if (t.StartsWith(Prefix, System.StringComparison.Ordinal)) sb.Append(t, 2, t.Length - 2);
            else { if (sb.Length > 0) sb.Append(' '); sb.Append(t); }
        }
        return sb.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
            .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re").ToString();
    }

    static bool IsWhitespace(int cp, UnicodeCategory cat) => cp is ' ' or '\t' or '\n' or '\r' || cat == UnicodeCategory.SpaceSeparator;

    static bool IsControl(int cp, UnicodeCategory cat) =>
        cp is not ('\t' or '\n' or '\r') && cat is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;

    static bool IsPunctuation(int cp, UnicodeCategory cat) =>
        (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126) ||
        cat is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
            or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    static bool IsCjk(int cp) =>
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
        (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}
