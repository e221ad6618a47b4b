using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace Kiln.Transformers.Tokenization;

/// <summary>Loads the tokenizer of a Hugging Face folder (<c>AutoTokenizer</c>).</summary>
public static class AutoTokenizer
{
    /// <summary>
    /// The tokenizer of <paramref name="directory"/>: <c>tokenizer.json</c> (any model Kiln reads; a BERT folder with only
    /// <c>vocab.txt</c> gets the WordPiece tokenizer Hugging Face converts it to), with
    /// <c>tokenizer_config.json</c>'s special tokens, padding side and chat template when present (<c>chat_template.jinja</c>
    /// when that file exists).
    /// </summary>
    public static PreTrainedTokenizer FromPretrained(string directory)
    {
        string file = Path.Combine(directory, "tokenizer.json"), vocab = Path.Combine(directory, "vocab.txt");
        string cfg = Path.Combine(directory, "tokenizer_config.json");
        TokenizerFile.Parts parts;
        if (File.Exists(file)) parts = TokenizerFile.Read(file);
        else if (File.Exists(vocab))
        {
            // A BERT folder with only the slow tokenizer's vocab.txt: the fast tokenizer it converts to.
            bool lower = true;
            if (File.Exists(cfg))
            {
                using var c = JsonDocument.Parse(File.ReadAllText(cfg));
                if (c.RootElement.TryGetProperty("do_lower_case", out var d) && d.ValueKind == JsonValueKind.False) lower = false;
            }
            var lines = new List<string>(File.ReadAllLines(vocab));
            while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
            parts = TokenizerFile.Read(BertVocab.TokenizerJson(lines, lower), vocab);
        }
        else throw new FileNotFoundException($"{directory}: no tokenizer.json (or vocab.txt)", file);
        PreTrainedTokenizer tokenizer;
        if (!File.Exists(cfg)) tokenizer = new PreTrainedTokenizer(parts.Model, parts.Added, parts.Prefix, parts.Suffix, null);
        else
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(cfg));
            tokenizer = new PreTrainedTokenizer(parts.Model, parts.Added, parts.Prefix, parts.Suffix, doc.RootElement.Clone());
        }
        // Newer saves keep the template in its own file, which then wins over tokenizer_config.json's.
        string jinja = Path.Combine(directory, "chat_template.jinja");
        if (File.Exists(jinja)) tokenizer.ChatTemplate = File.ReadAllText(jinja);
        return tokenizer;
    }
}
