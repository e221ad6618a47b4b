using System;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// SentencePiece's compiled normalization rules (the <c>Precompiled</c> normalizer of T5, ALBERT, XLM-R and mBART
/// tokenizer.json files): a double-array trie over UTF-8 bytes whose leaves point into a blob of NUL-terminated
/// replacement strings. Layout: little-endian u32 trie size in bytes, the trie's u32 units, then the blob.
/// </summary>
/// <remarks>
/// Applied as Hugging Face's tokenizers applies it: text is cut into extended grapheme clusters; a cluster shorter
/// than 6 UTF-8 bytes whose bytes start with a rule's source is replaced whole by the first (shortest) such rule's
/// target; otherwise each code point is looked up the same way on its own. Ids equal HF's only with this exact
/// (odd-looking) rule, so it is kept as is.
/// </remarks>
internal sealed class PrecompiledCharsmap
{
    readonly uint[] _trie;
    readonly byte[] _normalized;

    /// <summary>Parses the charsmap bytes (base64-decoded from tokenizer.json); <paramref name="source"/> names them in errors.</summary>
    public PrecompiledCharsmap(byte[] charsmap, string source)
    {
        if (charsmap.Length < 4)
            throw Bad(source, $"precompiled_charsmap is {charsmap.Length} bytes; it needs at least the 4-byte trie size");
        uint trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(charsmap);
        if (trieBytes % 4 != 0 || trieBytes > (uint)(charsmap.Length - 4) || trieBytes == 0)
            throw Bad(source, $"precompiled_charsmap declares a {trieBytes}-byte trie at offset 4, but {charsmap.Length - 4} bytes follow (and it must be a non-zero multiple of 4)");
        _trie = new uint[trieBytes / 4];
        for (int i = 0; i < _trie.Length; i++) _trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(charsmap.AsSpan(4 + 4 * i));
        _normalized = charsmap.AsSpan(4 + (int)trieBytes).ToArray();
        try { new UTF8Encoding(false, true).GetString(_normalized); }
        catch (DecoderFallbackException e)
        {
            throw Bad(source, $"precompiled_charsmap's replacement strings (from offset {4 + trieBytes}) are not valid UTF-8: {e.Message}");
        }
    }

    static KilnException Bad(string source, string what) => new("tokenizer", $"tokenizer: {source}: {what}", KilnErrorKind.Format);

    /// <summary>Normalizes <paramref name="text"/> grapheme by grapheme.</summary>
    public string Normalize(string text)
    {
        if (text.Length == 0) return text;
        var sb = new StringBuilder(text.Length);
        Span<byte> utf8 = stackalloc byte[64];
        for (int start = 0, length; start < text.Length; start += length)
        {
            length = StringInfo.GetNextTextElementLength(text.AsSpan(start));
            var cluster = text.AsSpan(start, length);
            if (Encoding.UTF8.GetByteCount(cluster) < 6)
            {
                int n = Encoding.UTF8.GetBytes(cluster, utf8);
                if (Transform(utf8[..n], sb)) continue;
            }
            for (int i = 0; i < cluster.Length;)
            {
                int width = char.IsHighSurrogate(cluster[i]) && i + 1 < cluster.Length && char.IsLowSurrogate(cluster[i + 1]) ? 2 : 1;
                var scalar = cluster.Slice(i, width);
                int n = Encoding.UTF8.GetBytes(scalar, utf8);
                if (!Transform(utf8[..n], sb)) sb.Append(scalar);
                i += width;
            }
        }
        return sb.ToString();
    }

    /// <summary>Appends the target of the shortest rule whose source starts <paramref name="key"/>; false when none does.</summary>
    bool Transform(ReadOnlySpan<byte> key, StringBuilder sb)
    {
        int value = FirstPrefixValue(key);
        if (value < 0) return false;
        if (value > _normalized.Length)
            throw new KilnException("tokenizer", $"tokenizer: Precompiled normalizer: a rule points at offset {value} of a {_normalized.Length}-byte replacement blob", KilnErrorKind.Format);
        int end = value;
        while (end < _normalized.Length && _normalized[end] != 0) end++;
        sb.Append(Encoding.UTF8.GetString(_normalized, value, end - value));
        return true;
    }

    /// <summary>The value of the first leaf met walking <paramref name="key"/>'s bytes down the trie, or -1.</summary>
    int FirstPrefixValue(ReadOnlySpan<byte> key)
    {
        // Unit bits (Darts-clone): label = bits 0-7 plus bit 31 (so a leaf unit never matches a byte), has-leaf = bit 8,
        // offset = bits 10-31 shifted left by 8 when bit 9 is set, value = bits 0-30.
        long node = Offset(Unit(0));
        foreach (byte c in key)
        {
            if (c == 0) break;
            node ^= c;
            uint unit = Unit(node);
            if ((unit & (0x80000000u | 0xFFu)) != c) return -1;
            node ^= Offset(unit);
            if (((unit >> 8) & 1) == 1) return (int)(Unit(node) & 0x7FFFFFFFu);
        }
        return -1;
    }

    uint Unit(long index) => (ulong)index < (ulong)_trie.Length ? _trie[index]
        : throw new KilnException("tokenizer", $"tokenizer: Precompiled normalizer: the trie walk reached unit {index} of {_trie.Length} (a corrupt charsmap)", KilnErrorKind.Format);

    static long Offset(uint unit) => (long)(unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
