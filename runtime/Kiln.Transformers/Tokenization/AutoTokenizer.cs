using System.IO;
using System.Text.Json;

namespace Kiln.Transformers.Tokenization;

/// <summary>Loads the tokenizer of a Hugging Face folder (<c>AutoTokenizer</c>).</summary>
public static class AutoTokenizer
{
    /// <summary>
    /// The tokenizer of <paramref name="directory"/>: <c>tokenizer.json</c> (any model Kiln reads), with
    /// <c>tokenizer_config.json</c>'s special tokens, padding side and chat template when present (<c>chat_template.jinja</c>
    /// when that file exists).
    /// </summary>
    public static PreTrainedTokenizer FromPretrained(string directory)
    {
        string file = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(file)) throw new FileNotFoundException($"{directory}: no tokenizer.json", file);
        var parts = TokenizerFile.Read(file);
        string cfg = Path.Combine(directory, "tokenizer_config.json");
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
