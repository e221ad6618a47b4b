using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c>: the model (BPE byte-level or SentencePiece-style, WordPiece), its
/// normalizer and pre-tokenizer, the added tokens, and the post-processor's special tokens around a sequence.
/// </summary>
internal static class TokenizerFile
{
    public sealed record Parts(ISegmentModel Model, List<AddedToken> Added, int[] Prefix, int[] Suffix);

    public static Parts Read(string file) => Read(File.ReadAllBytes(file), file);

    /// <summary>A tokenizer.json's content; <paramref name="file"/> names it in errors.</summary>
    public static Parts Read(byte[] bytes, string file)
    {
        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw Bad(file, "has no model object");
        string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "BPE";
        var normalizer = root.TryGetProperty("normalizer", out var n) ? n : default;
        var pre = root.TryGetProperty("pre_tokenizer", out var p) ? p : default;
        // Unigram's vocabulary is a list of [piece, score]; the others map token → id.
        var vocab = type == "Unigram" ? [] : Vocab(model, file);
        ISegmentModel segment = type switch
        {
            "Unigram" => new UnigramModel(model, normalizer, pre, file),
            "BPE" when IsSentencePieceStyle(model, normalizer) => new SentencePieceBpeModel(vocab, Merges(model), normalizer,
                model.TryGetProperty("unk_token", out var unk) ? unk.GetString() ?? "<unk>" : "<unk>", file),
            "BPE" => ByteLevelBpe(model, vocab, normalizer, pre, file),
            "WordPiece" => WordPiece(model, vocab, normalizer),
            _ => throw new KilnException("tokenizer", $"tokenizer: {file}: model type '{type}' is not supported (BPE, WordPiece, Unigram)", KilnErrorKind.Unsupported),
        };
        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var at) && at.ValueKind == JsonValueKind.Array)
            foreach (var a in at.EnumerateArray())
                added.Add(new AddedToken(a.GetProperty("content").GetString()!, a.GetProperty("id").GetInt32(),
                    Flag(a, "special"), Flag(a, "lstrip"), Flag(a, "rstrip")));
        var prefix = new List<int>();
        var suffix = new List<int>();
        if (root.TryGetProperty("post_processor", out var post)) PostProcessor(post, prefix, suffix, file);
        return new Parts(segment, added, [.. prefix], [.. suffix]);
    }

    static bool Flag(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    static Dictionary<string, int> Vocab(JsonElement model, string file)
    {
        var vocab = new Dictionary<string, int>();
        if (!model.TryGetProperty("vocab", out var v)) throw Bad(file, "has no model.vocab");
        if (v.ValueKind == JsonValueKind.Object)
            foreach (var kv in v.EnumerateObject()) vocab[kv.Name] = kv.Value.GetInt32();
        else throw Bad(file, "model.vocab should be an object");
        return vocab;
    }

    // Llama 2 style: byte fallback, or a normalizer that turns spaces into ▁.
    static bool IsSentencePieceStyle(JsonElement model, JsonElement normalizer) =>
        Flag(model, "byte_fallback") || (normalizer.ValueKind == JsonValueKind.Object && normalizer.GetRawText().Contains("\u2581"));

    /// <summary>The merges in either layout: "a b" strings or [a, b] pairs.</summary>
    static List<string> Merges(JsonElement model)
    {
        var merges = new List<string>();
        if (model.TryGetProperty("merges", out var m))
            foreach (var item in m.EnumerateArray())
                merges.Add(item.ValueKind == JsonValueKind.Array ? item[0].GetString() + " " + item[1].GetString() : item.GetString()!);
        return merges;
    }

    static ByteLevelBpeModel ByteLevelBpe(JsonElement model, Dictionary<string, int> vocab, JsonElement normalizer, JsonElement pre, string file)
    {
        var merges = Merges(model);
        bool nfc = false;
        if (normalizer.ValueKind == JsonValueKind.Object)
        {
            string kind = normalizer.GetProperty("type").GetString() ?? "";
            if (kind == "NFC") nfc = true;
            else throw new KilnException("tokenizer", $"tokenizer: {file}: normalizer '{kind}' with a byte-level BPE is not supported (NFC or none)", KilnErrorKind.Unsupported);
        }
        var splits = new List<Regex>();
        bool prefixSpace = false;
        void PreTokenizer(JsonElement e)
        {
            string kind = e.GetProperty("type").GetString() ?? "";
            switch (kind)
            {
                case "Sequence":
                    foreach (var inner in e.GetProperty("pretokenizers").EnumerateArray()) PreTokenizer(inner);
                    break;
                case "Split":
                    var pattern = e.GetProperty("pattern");
                    string behavior = e.TryGetProperty("behavior", out var b) ? b.GetString() ?? "" : "";
                    if (behavior != "Isolated" || Flag(e, "invert"))
                        throw new KilnException("tokenizer", $"tokenizer: {file}: Split with behavior '{behavior}' is not supported (Isolated)", KilnErrorKind.Unsupported);
                    splits.Add(pattern.TryGetProperty("Regex", out var rx) ? new Regex(rx.GetString()!, RegexOptions.Compiled)
                        : new Regex(Regex.Escape(pattern.GetProperty("String").GetString()!), RegexOptions.Compiled));
                    break;
                case "ByteLevel":
                    if (!e.TryGetProperty("use_regex", out var ur) || ur.ValueKind == JsonValueKind.True) splits.Add(new Regex(ByteLevel.Gpt2Pattern, RegexOptions.Compiled));
                    prefixSpace |= Flag(e, "add_prefix_space");
                    break;
                default:
                    throw new KilnException("tokenizer", $"tokenizer: {file}: pre-tokenizer '{kind}' with a byte-level BPE is not supported", KilnErrorKind.Unsupported);
            }
        }
        if (pre.ValueKind == JsonValueKind.Object) PreTokenizer(pre);
        return new ByteLevelBpeModel(vocab, merges, [.. splits], nfc, Flag(model, "ignore_merges"), prefixSpace);
    }

    static WordPieceModel WordPiece(JsonElement model, Dictionary<string, int> vocab, JsonElement normalizer)
    {
        // No normalizer: the text as it is; a BertNormalizer's fields default as in HF (lower case, CJK spacing).
        bool lower = false, chinese = false;
        bool? strip = false;
        if (normalizer.ValueKind == JsonValueKind.Object)
        {
            lower = chinese = true;
            strip = null;
            if (normalizer.TryGetProperty("lowercase", out var l)) lower = l.ValueKind == JsonValueKind.True;
            if (normalizer.TryGetProperty("handle_chinese_chars", out var c)) chinese = c.ValueKind != JsonValueKind.False;
            if (normalizer.TryGetProperty("strip_accents", out var s) && s.ValueKind is JsonValueKind.True or JsonValueKind.False) strip = s.ValueKind == JsonValueKind.True;
        }
        string unk = model.TryGetProperty("unk_token", out var u) ? u.GetString() ?? "[UNK]" : "[UNK]";
        return new WordPieceModel(vocab, lower, strip, chinese, unk);
    }

    static void PostProcessor(JsonElement post, List<int> prefix, List<int> suffix, string file)
    {
        if (post.ValueKind != JsonValueKind.Object) return;
        string kind = post.GetProperty("type").GetString() ?? "";
        switch (kind)
        {
            case "Sequence":
                foreach (var inner in post.GetProperty("processors").EnumerateArray()) PostProcessor(inner, prefix, suffix, file);
                break;
            case "ByteLevel":
                break;
            case "BertProcessing" or "RobertaProcessing":
                prefix.Add(post.GetProperty("cls")[1].GetInt32());
                suffix.Add(post.GetProperty("sep")[1].GetInt32());
                break;
            case "TemplateProcessing":
            {
                var special = post.GetProperty("special_tokens");
                bool before = true;
                foreach (var piece in post.GetProperty("single").EnumerateArray())
                {
                    if (piece.TryGetProperty("Sequence", out _)) { before = false; continue; }
                    string id = piece.GetProperty("SpecialToken").GetProperty("id").GetString()!;
                    foreach (var i in special.GetProperty(id).GetProperty("ids").EnumerateArray()) (before ? prefix : suffix).Add(i.GetInt32());
                }
                break;
            }
            default:
                throw new KilnException("tokenizer", $"tokenizer: {file}: post-processor '{kind}' is not supported", KilnErrorKind.Unsupported);
        }
    }

    static KilnException Bad(string file, string what) => new("tokenizer", $"tokenizer: {file} {what}", KilnErrorKind.Format);
}
