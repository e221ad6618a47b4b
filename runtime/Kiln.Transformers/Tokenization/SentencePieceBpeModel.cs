using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// SentencePiece-style BPE in tokenizer.json (Llama 2, Mistral): the normalizer's Prepend/Replace steps (a leading ▁,
/// spaces as ▁), the segment merged whole by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>, and byte fallback: a
/// character outside the vocabulary becomes its UTF-8 bytes as <c>&lt;0xNN&gt;</c> tokens. Decoding reverses it and drops
/// the one leading space the prepend added.
/// </summary>
internal sealed class SentencePieceBpeModel : ISegmentModel
{
    const char Space = '\u2581';
    readonly BpeTokenizer _bpe;
    readonly Dictionary<string, int> _vocab;
    readonly Func<string, string> _normalizer;
    readonly int[] _byteIds = new int[256];
    readonly Dictionary<int, string> _inverse = new();

    public SentencePieceBpeModel(Dictionary<string, int> vocab, List<string> merges, JsonElement normalizer, string unk, string file)
    {
        _vocab = vocab;
        _normalizer = TextNormalizer.Build(normalizer, file);
        _bpe = BpeTokenizer.Create(new BpeOptions(vocab) { Merges = merges, UnknownToken = unk, FuseUnknownTokens = true });
        for (int b = 0; b < 256; b++)
            _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id
                : throw new KilnException("tokenizer", $"tokenizer: {file}: byte_fallback needs <0x{b:X2}> in the vocabulary", KilnErrorKind.Format);
        foreach (var (k, v) in vocab) _inverse[v] = k;
    }

    public int VocabSize => _vocab.Count;

    public int? IdOf(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    public void Encode(string segment, List<int> ids)
    {
        if (segment.Length == 0) return;
        segment = _normalizer(segment);
        // Runs of characters the vocabulary knows go to BPE; any other character falls back to its bytes.
        int start = 0;
        for (int i = 0; i < segment.Length;)
        {
            int width = char.IsSurrogatePair(segment, i) ? 2 : 1;
            if (!_vocab.ContainsKey(segment.Substring(i, width)))
            {
                if (i > start) ids.AddRange(_bpe.EncodeToIds(segment[start..i], considerPreTokenization: false, considerNormalization: false));
                foreach (byte b in Encoding.UTF8.GetBytes(segment.Substring(i, width))) ids.Add(_byteIds[b]);
                start = i + width;
            }
            i += width;
        }
        if (start < segment.Length) ids.AddRange(_bpe.EncodeToIds(segment[start..], considerPreTokenization: false, considerNormalization: false));
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (!_inverse.TryGetValue(id, out var t)) continue;
            if (t.Length == 6 && t.StartsWith("<0x") && t[5] == '>') bytes.Add(System.Convert.ToByte(t.Substring(3, 2), 16));
            else bytes.AddRange(Encoding.UTF8.GetBytes(t.Replace(Space, ' ')));
        }
        var text = Encoding.UTF8.GetString(bytes.ToArray());
        return text.StartsWith(' ') ? text[1..] : text;
    }
}
