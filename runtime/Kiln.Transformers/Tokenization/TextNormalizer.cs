using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// The <c>normalizer</c> of a SentencePiece-style tokenizer.json (Unigram and byte-fallback BPE files) as one function:
/// NFC/NFD/NFKC/NFKD, Lowercase, Prepend, Replace (a string or a regex pattern), Strip, Precompiled (SentencePiece's
/// compiled rules, <see cref="PrecompiledCharsmap"/>) and sequences of them, applied in order.
/// </summary>
internal static class TextNormalizer
{
    /// <summary>Builds the function for <paramref name="normalizer"/> (null or absent: identity); <paramref name="file"/> names the file in errors.</summary>
    public static Func<string, string> Build(JsonElement normalizer, string file)
    {
        var steps = new List<Func<string, string>>();
        if (normalizer.ValueKind == JsonValueKind.Object) Add(normalizer, file, steps);
        if (steps.Count == 0) return static s => s;
        var all = steps.ToArray();
        return s =>
        {
            foreach (var step in all) s = step(s);
            return s;
        };
    }

    static void Add(JsonElement n, string file, List<Func<string, string>> steps)
    {
        switch (n.GetProperty("type").GetString())
        {
            case "Sequence": foreach (var inner in n.GetProperty("normalizers").EnumerateArray()) Add(inner, file, steps); break;
            case "NFC": steps.Add(s => s.Normalize(NormalizationForm.FormC)); break;
            case "NFD": steps.Add(s => s.Normalize(NormalizationForm.FormD)); break;
            case "NFKC": steps.Add(s => s.Normalize(NormalizationForm.FormKC)); break;
            case "NFKD": steps.Add(s => s.Normalize(NormalizationForm.FormKD)); break;
            case "Lowercase": steps.Add(s => s.ToLowerInvariant()); break;
            case "Prepend": { string p = n.GetProperty("prepend").GetString() ?? ""; steps.Add(s => s.Length == 0 ? s : p + s); break; }
            case "Replace": steps.Add(Replace(n, file)); break;
            case "Strip":
            {
                bool left = !n.TryGetProperty("strip_left", out var l) || l.GetBoolean(), right = !n.TryGetProperty("strip_right", out var r) || r.GetBoolean();
                steps.Add(s => left && right ? s.Trim() : left ? s.TrimStart() : right ? s.TrimEnd() : s);
                break;
            }
            case "Precompiled":
            {
                // Files converted from a SentencePiece model without rules carry an empty (or null) charsmap: nothing to do.
                if (!n.TryGetProperty("precompiled_charsmap", out var cm) || cm.ValueKind != JsonValueKind.String || cm.GetString() is not { Length: > 0 } b64) break;
                byte[] bytes;
                try { bytes = Convert.FromBase64String(b64); }
                catch (FormatException e) { throw new KilnException("tokenizer", $"tokenizer: {file}: Precompiled normalizer: precompiled_charsmap is not base64 ({e.Message})", KilnErrorKind.Format); }
                var charsmap = new PrecompiledCharsmap(bytes, file);
                steps.Add(charsmap.Normalize);
                break;
            }
            case var other:
                throw new KilnException("tokenizer", $"tokenizer: {file}: normalizer '{other}' is not supported here (NFC/NFD/NFKC/NFKD, Lowercase, Replace, Prepend, Strip, Precompiled)", KilnErrorKind.Unsupported);
        }
    }

    static Func<string, string> Replace(JsonElement n, string file)
    {
        var pattern = n.GetProperty("pattern");
        string to = n.GetProperty("content").GetString() ?? "";
        if (pattern.TryGetProperty("String", out var from))
        {
            string f = from.GetString() ?? "";
            return s => f.Length == 0 ? s : s.Replace(f, to, StringComparison.Ordinal);
        }
        if (pattern.TryGetProperty("Regex", out var rx))
        {
            // HF compiles these with Oniguruma; the patterns its converters write (" {2,}") mean the same in .NET.
            // The content is literal text, not a substitution template.
            Regex regex;
            try { regex = new Regex(rx.GetString() ?? "", RegexOptions.CultureInvariant); }
            catch (ArgumentException e) { throw new KilnException("tokenizer", $"tokenizer: {file}: Replace normalizer: regex {rx.GetString()} does not compile in .NET ({e.Message})", KilnErrorKind.Unsupported); }
            return s => regex.Replace(s, _ => to);
        }
        throw new KilnException("tokenizer", $"tokenizer: {file}: Replace normalizer needs a String or Regex pattern", KilnErrorKind.Format);
    }
}
