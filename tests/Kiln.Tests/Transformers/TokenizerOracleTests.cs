using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Kiln.Transformers.Tokenization;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// Kiln's tokenizers against Hugging Face's own (the Rust tokenizers library through Tokenizers.DotNet) on the same real
/// tokenizer.json files: identical ids on every corpus line (~1,900 lines of prose, code, Unicode, emoji, whitespace runs,
/// numbers, random mixes), and identical decoded text.
/// </summary>
public class TokenizerOracleTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    [InlineData("llama2")]
    public void IdsEqualHuggingFaceTokenizers(string name)
    {
        string dir = TokenizerFixtures.Folder(name);
        var kiln = AutoTokenizer.FromPretrained(dir);
        using var oracle = new Tokenizers.DotNet.Tokenizer(Path.Combine(dir, "tokenizer.json"));
        Compare(kiln, oracle, TokenizerFixtures.Corpus(), name);
    }

    [Fact]
    public void WordPieceEqualsHuggingFaceTokenizersOnMiniLmsVocabulary()
    {
        // MiniLM ships vocab.txt; Hugging Face's BertTokenizerFast is this tokenizer.json over it.
        var vocab = Encoding.UTF8.GetString(MiniLmOnnxTests.Resource("vocab.txt")).Split('\n', StringSplitOptions.TrimEntries);
        string dir = Path.Combine(Path.GetTempPath(), "kiln-wordpiece-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var entries = new StringBuilder();
            int id = 0;
            foreach (var v in vocab)
            {
                if (v.Length == 0) continue;
                if (entries.Length > 0) entries.Append(',');
                entries.Append(System.Text.Json.JsonSerializer.Serialize(v)).Append(':').Append(id++);
            }
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """
                {"version": "1.0", "truncation": null, "padding": null,
                 "added_tokens": [{"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                                  {"id": 100, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                                  {"id": 101, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                                  {"id": 102, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                                  {"id": 103, "content": "[MASK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
                 "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
                 "pre_tokenizer": {"type": "BertPreTokenizer"},
                 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                   "pair": [], "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [102], "tokens": ["[SEP]"]}}},
                 "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
                 "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": {
                """ + entries + "}}}");
            var kiln = AutoTokenizer.FromPretrained(dir);
            using var oracle = new Tokenizers.DotNet.Tokenizer(Path.Combine(dir, "tokenizer.json"));
            Compare(kiln, oracle, TokenizerFixtures.Corpus(), "wordpiece", checkDecode: false);
            Assert.Equal([101, 7592, 1010, 2088, 999, 102], kiln.Encode("Hello, world!"));
            // The same folder as a slow tokenizer saves it (vocab.txt only): Kiln builds the fast tokenizer it converts to.
            string slow = Path.Combine(dir, "slow");
            Directory.CreateDirectory(slow);
            File.WriteAllBytes(Path.Combine(slow, "vocab.txt"), MiniLmOnnxTests.Resource("vocab.txt"));
            Compare(AutoTokenizer.FromPretrained(slow), oracle, TokenizerFixtures.Corpus(), "wordpiece from vocab.txt", checkDecode: false);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void UnigramEqualsHuggingFaceTokenizers(bool byteFallback, bool precompiled)
    {
        // No Unigram tokenizer.json is available offline, so one is built from the corpus the way SentencePiece's
        // vocabularies look: characters, frequent words with their ▁, frequent substrings, each with a log frequency;
        // rare characters are left out so unknowns (or byte fallback) happen. HF's tokenizers is the oracle for ids.
        var corpus = TokenizerFixtures.Corpus();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        void Count(string piece) => counts[piece] = counts.GetValueOrDefault(piece) + 1;
        foreach (var line in corpus)
            foreach (var word in line.Normalize(NormalizationForm.FormKC).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                string w = "\u2581" + word;
                Count(w);
                var chars = new List<string>();
                for (int i = 0; i < w.Length; i += char.IsSurrogatePair(w, i) ? 2 : 1) chars.Add(w.Substring(i, char.IsSurrogatePair(w, i) ? 2 : 1));
                for (int a = 0; a < chars.Count; a++)
                    for (int len = 1; len <= 6 && a + len <= chars.Count; len++) Count(string.Concat(chars.Skip(a).Take(len)));
            }
        double total = counts.Values.Sum();
        var pieces = counts.Where(kv => kv.Key.Length <= 2 && !char.IsSurrogate(kv.Key[0]) ? kv.Value >= 2 : kv.Value >= 4)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(6000).ToList();
        var vocab = new StringBuilder("[[\"<unk>\", 0.0]");
        foreach (var (piece, n) in pieces)
            vocab.Append(',').Append('[').Append(System.Text.Json.JsonSerializer.Serialize(piece)).Append(", ").Append(Math.Log(n / total).ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append(']');
        if (byteFallback)
            for (int b = 0; b < 256; b++) vocab.Append($",[\"<0x{b:X2}>\", -50.0]");
        vocab.Append(']');
        string dir = Path.Combine(Path.GetTempPath(), "kiln-unigram-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """
                {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
                 "normalizer": NORMALIZER,
                 "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
                 "post_processor": null,
                 "decoder": DECODER,
                 "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": BYTE_FALLBACK, "vocab": VOCAB}}
                """.Replace("BYTE_FALLBACK", byteFallback ? "true" : "false").Replace("VOCAB", vocab.ToString())
                 // SentencePiece's compiled rules, then what HF's SentencePiece converter appends (T5, ALBERT, XLM-R files).
                 .Replace("NORMALIZER", precompiled
                    ? $$"""{"type": "Sequence", "normalizers": [{"type": "Precompiled", "precompiled_charsmap": "{{PrecompiledNormalizerTests.Charsmap()}}"}, {"type": "Strip", "strip_left": false, "strip_right": true}, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"}]}"""
                    : """{"type": "NFKC"}""")
                 // With byte fallback, the decoder SentencePiece conversions write (Llama 2's): bytes back to text.
                 .Replace("DECODER", byteFallback
                    ? """{"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}"""
                    : """{"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true}"""));
            var kiln = AutoTokenizer.FromPretrained(dir);
            using var oracle = new Tokenizers.DotNet.Tokenizer(Path.Combine(dir, "tokenizer.json"));
            var lines = precompiled ? [.. corpus, .. PrecompiledNormalizerTests.RuleLines] : corpus;
            Compare(kiln, oracle, lines, precompiled ? "unigram with a Precompiled normalizer" : byteFallback ? "unigram with byte fallback" : "unigram", checkDecode: byteFallback);
            // A character the vocabulary lacks: the unknown piece, or its four UTF-8 bytes.
            var ids = kiln.Encode("emoji \U0001F9EA here");
            if (byteFallback) Assert.Contains(kiln.TokenToId("<0xF0>")!.Value, ids);
            else Assert.Contains(0, ids);
        }
        finally { Directory.Delete(dir, true); }
    }

    static void Compare(PreTrainedTokenizer kiln, Tokenizers.DotNet.Tokenizer oracle, List<string> corpus, string name, bool checkDecode = true)
    {
        var bad = new List<string>();
        int decodeBad = 0;
        foreach (var line in corpus)
        {
            var want = oracle.Encode(line).Select(u => (int)u).ToArray();
            var got = kiln.Encode(line);
            if (!want.SequenceEqual(got))
            {
                if (bad.Count < 5) bad.Add($"{Show(line)}\n   hf:   [{string.Join(", ", want)}]\n   kiln: [{string.Join(", ", got)}]");
                else bad.Add("");
                continue;
            }
            // The oracle decodes as HF's decode(ids, skip_special_tokens=True).
            if (checkDecode && oracle.Decode(want.Select(i => (uint)i).ToArray()) != kiln.Decode(got, skipSpecialTokens: true)) decodeBad++;
        }
        Assert.True(bad.Count == 0, $"{name}: {bad.Count} of {corpus.Count} lines differ, first:\n{string.Join("\n", bad.Where(b => b.Length > 0))}");
        Assert.True(decodeBad == 0, $"{name}: {decodeBad} of {corpus.Count} lines decode differently");
    }

    static string Show(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
