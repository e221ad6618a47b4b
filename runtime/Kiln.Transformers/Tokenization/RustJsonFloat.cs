using System;
using System.Text.Json;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// A JSON number read as Hugging Face's tokenizers (Rust, serde_json without its float_roundtrip feature) reads it: the
/// digits as a 64-bit integer, then one multiplication or division by a power of ten. That can land one unit in the last
/// place away from the correctly rounded value, and a Unigram vocabulary's scores decide near-ties in Viterbi by exactly
/// such units — so the scores are read this way for segmentation to match HF's.
/// </summary>
internal static class RustJsonFloat
{
    static readonly double[] Pow10 = BuildPow10();

    static double[] BuildPow10()
    {
        // serde_json's table holds the literals 1e0 ... 1e308, each the correctly rounded double.
        var p = new double[309];
        for (int i = 0; i < p.Length; i++) p[i] = double.Parse("1e" + i, System.Globalization.CultureInfo.InvariantCulture);
        return p;
    }

    /// <summary><paramref name="number"/>'s value as serde_json's default parser computes it.</summary>
    public static double Read(JsonElement number)
    {
        string s = number.GetRawText();
        int i = 0;
        bool negative = s[i] == '-';
        if (negative) i++;
        ulong significand = 0;
        int exponent = 0;
        bool overflowed = false;
        // Integer digits; once the significand would overflow, further digits only scale it (serde's long-integer path).
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (overflowed || Overflows(significand, s[i])) { overflowed = true; exponent++; continue; }
            significand = significand * 10 + (ulong)(s[i] - '0');
        }
        if (i < s.Length && s[i] == '.')
        {
            // Fraction digits past an overflow are ignored (serde's parse_decimal_overflow).
            for (i++; i < s.Length && char.IsAsciiDigit(s[i]); i++)
            {
                if (overflowed || Overflows(significand, s[i])) { overflowed = true; continue; }
                significand = significand * 10 + (ulong)(s[i] - '0');
                exponent--;
            }
        }
        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            i++;
            bool minus = i < s.Length && s[i] == '-';
            if (i < s.Length && (s[i] == '-' || s[i] == '+')) i++;
            int e = 0;
            for (; i < s.Length && char.IsAsciiDigit(s[i]); i++) e = e > 100_000 ? e : e * 10 + (s[i] - '0');
            exponent += minus ? -e : e;
        }
        double f = significand;
        while (true)
        {
            int magnitude = Math.Abs(exponent);
            if (magnitude < Pow10.Length)
            {
                f = exponent >= 0 ? f * Pow10[magnitude] : f / Pow10[magnitude];
                break;
            }
            if (f == 0 || exponent > 0) { f = exponent > 0 && f != 0 ? double.PositiveInfinity : 0; break; }
            f /= 1e308;
            exponent += 308;
        }
        return negative ? -f : f;
    }

    static bool Overflows(ulong significand, char digit)
    {
        const ulong limit = ulong.MaxValue / 10, rest = ulong.MaxValue % 10;
        ulong d = (ulong)(digit - '0');
        return significand >= limit && (significand > limit || d > rest);
    }
}
