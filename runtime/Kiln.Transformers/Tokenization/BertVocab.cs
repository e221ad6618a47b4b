using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// A BERT folder saved without tokenizer.json (the slow tokenizer's vocab.txt, one token per line, the id its line
/// number): the tokenizer.json Hugging Face's BertTokenizerFast converts it to — BERT normalizer (lower case unless
/// tokenizer_config.json says do_lower_case false), BERT pre-tokenizer, WordPiece with "##", [CLS] … [SEP] around a text.
/// </summary>
internal static class BertVocab
{
    public static byte[] TokenizerJson(IReadOnlyList<string> vocab, bool lowercase)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            var ids = new Dictionary<string, int>();
            for (int i = 0; i < vocab.Count; i++) ids.TryAdd(vocab[i], i);
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteStartArray("added_tokens");
            foreach (var special in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" })
            {
                if (!ids.TryGetValue(special, out int id)) continue;
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", special);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("normalizer");
            w.WriteString("type", "BertNormalizer");
            w.WriteBoolean("clean_text", true);
            w.WriteBoolean("handle_chinese_chars", true);
            w.WriteNull("strip_accents");
            w.WriteBoolean("lowercase", lowercase);
            w.WriteEndObject();
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "BertPreTokenizer");
            w.WriteEndObject();
            if (ids.TryGetValue("[CLS]", out int cls) && ids.TryGetValue("[SEP]", out int sep))
            {
                w.WriteStartObject("post_processor");
                w.WriteString("type", "TemplateProcessing");
                w.WriteStartArray("single");
                Special(w, "[CLS]"); Sequence(w); Special(w, "[SEP]");
                w.WriteEndArray();
                w.WriteStartArray("pair");
                w.WriteEndArray();
                w.WriteStartObject("special_tokens");
                foreach (var (name, id) in new[] { ("[CLS]", cls), ("[SEP]", sep) })
                {
                    w.WriteStartObject(name);
                    w.WriteString("id", name);
                    w.WriteStartArray("ids"); w.WriteNumberValue(id); w.WriteEndArray();
                    w.WriteStartArray("tokens"); w.WriteStringValue(name); w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteStartObject("model");
            w.WriteString("type", "WordPiece");
            w.WriteString("unk_token", "[UNK]");
            w.WriteString("continuing_subword_prefix", "##");
            w.WriteNumber("max_input_chars_per_word", 100);
            w.WriteStartObject("vocab");
            foreach (var (token, id) in ids) w.WriteNumber(token, id);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    static void Special(Utf8JsonWriter w, string id)
    {
        w.WriteStartObject();
        w.WriteStartObject("SpecialToken");
        w.WriteString("id", id);
        w.WriteNumber("type_id", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    static void Sequence(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("Sequence");
        w.WriteString("id", "A");
        w.WriteNumber("type_id", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
