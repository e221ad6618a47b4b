using System.IO;
using System.Text.Json;

namespace Kiln.Transformers.Tokenization;

/// <summary>Loads the tokenizer of a Hugging Face folder (<c>AutoTokenizer</c>).</summary>
public static class AutoTokenizer
{
    /// <summary>
    /// The tokenizer of <paramref name="directory"/>: <c>tokenizer.json</c> (any model Kiln reads), with
    /// <c>tokenizer_config.json</c>'s special tokens, padding side and chat template when present.
    /// </summary>
    public static PreTrainedTokenizer FromPretrained(string directory)
    {
        string file = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(file)) throw new FileNotFoundException($"{directory}: no tokenizer.json", file);
        var parts = TokenizerFile.Read(file);
        string cfg = Path.Combine(directory, "tokenizer_config.json");
        if (!File.Exists(cfg)) return new PreTrainedTokenizer(parts.Model, parts.Added, parts.Prefix, parts.Suffix, null);
        using var doc = JsonDocument.Parse(File.ReadAllText(cfg));
        return new PreTrainedTokenizer(parts.Model, parts.Added, parts.Prefix, parts.Suffix, doc.RootElement.Clone());
    }
}
