using System.Collections.Generic;
using System.Text;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// GPT-2's byte-level alphabet: every byte a printable character (printable Latin-1 bytes themselves, the rest shifted
/// past U+0100), so byte-level BPE vocabularies are strings. Both directions.
/// </summary>
internal static class ByteLevel
{
    static readonly char[] ToChar = Build();
    static readonly Dictionary<char, byte> ToByte = Invert();

    /// <summary>GPT-2's pre-tokenizer pattern (ByteLevel with use_regex).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    static char[] Build()
    {
        var map = new char[256];
        int shifted = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + shifted++);
        }
        return map;
    }

    static Dictionary<char, byte> Invert()
    {
        var d = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) d[ToChar[b]] = (byte)b;
        return d;
    }

    /// <summary>The byte-level string of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Appends the bytes a byte-level token stands for (characters outside the alphabet as their UTF-8).</summary>
    public static void AppendBytes(string token, List<byte> into)
    {
        foreach (char c in token)
        {
            if (ToByte.TryGetValue(c, out byte b)) into.Add(b);
            else into.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
        }
    }
}
