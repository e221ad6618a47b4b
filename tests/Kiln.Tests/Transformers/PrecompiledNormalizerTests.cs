using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using Kiln.Transformers.Tokenization;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// SentencePiece's Precompiled normalizer: a charsmap SentencePiece built from 322 NFKC-style rules
/// (tests/golden/data/spm_charsmap.json, make_spm_charsmap.py) read and applied as Hugging Face's tokenizers applies it.
/// Ids equal HF's own in <see cref="TokenizerOracleTests.UnigramEqualsHuggingFaceTokenizers"/> (the corpus plus
/// <see cref="RuleLines"/>); here the rules' effects and bad charsmaps.
/// </summary>
public class PrecompiledNormalizerTests
{
    /// <summary>The charsmap, base64 as tokenizer.json carries it.</summary>
    internal static string Charsmap()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "spm_charsmap.json")));
        return doc.RootElement.GetProperty("precompiled_charsmap").GetString()!;
    }

    /// <summary>Lines that hit the rules: fullwidth, ligatures, composed sequences, numerals, odd spaces, long clusters.</summary>
    internal static readonly List<string> RuleLines =
    [
        "ＡＢＣ ｆｕｌｌｗｉｄｔｈ １２３！",
        "the ﬁrst ﬂight was ﬀ and ﬃ",
        "cafe\u0301 and nin\u0303o and A\u030Angstro\u0308m",
        "chapter Ⅻ, part ⅳ, item ① and ⑳",
        "x² + y³ = z⁴ and H₂O",
        "tab\there, no\u00A0break, zero\u200Bwidth, soft\u00ADhyphen",
        "ａ\u0301 fullwidth with a mark, ｅ\u0308 too",
        "family 👨‍👩‍👧 and thumbs 👍🏽 stay whole",
        "spaces   in    runs and trailing   ",
        "½ cup, ¼ inch, ℃ and ™ and №",
        "\u3000ideographic space\u3000here",
    ];

    static PrecompiledCharsmap Load() => new(Convert.FromBase64String(Charsmap()), "spm_charsmap.json");

    [Theory]
    [InlineData("ＡＢＣ１２３", "ABC123")]
    [InlineData("ﬁne ﬂow", "fine flow")]
    [InlineData("cafe\u0301", "caf\u00E9")]
    [InlineData("Ⅻ ①", "XII 1")]
    [InlineData("x²", "x2")]
    [InlineData("a\tb\u00A0c", "a b c")]
    [InlineData("plain ascii stays", "plain ascii stays")]
    public void RulesApply(string input, string expected) => Assert.Equal(expected, Load().Normalize(input));

    [Fact]
    public void ShortClusterTakesItsFirstRuleWhole()
    {
        // HF's rule: a grapheme under 6 UTF-8 bytes whose bytes start with a rule's source becomes that rule's target
        // whole — fullwidth a + combining acute (5 bytes) becomes "a", the mark dropped (the oracle test agrees on ids).
        Assert.Equal("a", Load().Normalize("ａ\u0301"));
        // A longer cluster is looked up code point by code point: the emoji sequence has no rules and stays.
        Assert.Equal("👨‍👩‍👧", Load().Normalize("👨‍👩‍👧"));
    }

    [Fact]
    public void BadCharsmapsAreNamed()
    {
        var e = Assert.Throws<KilnException>(() => new PrecompiledCharsmap([1, 2, 3], "t5/tokenizer.json"));
        Assert.Contains("t5/tokenizer.json", e.Message);
        Assert.Contains("3 bytes", e.Message);
        // A trie size larger than what follows.
        e = Assert.Throws<KilnException>(() => new PrecompiledCharsmap([0, 1, 0, 0, 9, 9, 9, 9], "t5/tokenizer.json"));
        Assert.Contains("256-byte trie at offset 4", e.Message);
        // Replacement strings that are not UTF-8.
        e = Assert.Throws<KilnException>(() => new PrecompiledCharsmap([4, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE], "t5/tokenizer.json"));
        Assert.Contains("offset 8", e.Message);
        Assert.Equal(KilnErrorKind.Format, e.Kind);
        // Through a tokenizer.json: base64 that does not decode.
        string dir = Path.Combine(Path.GetTempPath(), "kiln-precompiled-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """
                {"version": "1.0", "added_tokens": [], "normalizer": {"type": "Precompiled", "precompiled_charsmap": "not base64!"},
                 "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
                 "decoder": null, "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["\u2581", -1.0]]}}
                """);
            e = Assert.Throws<KilnException>(() => AutoTokenizer.FromPretrained(dir));
            Assert.Contains("Precompiled normalizer", e.Message);
            Assert.Contains("not base64", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
