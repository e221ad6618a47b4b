using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Kiln.Transformers.Templates;

/// <summary>A piece of template source: literal text, a <c>{{ expression }}</c>, or a <c>{% tag %}</c>.</summary>
internal enum SegmentKind { Text, Output, Tag }

/// <summary>One segment; <see cref="Tokens"/> for output and tags, <see cref="Text"/> for text.</summary>
internal sealed record Segment(SegmentKind Kind, string Text, List<Token> Tokens, int Line);

internal enum TokenKind { Name, String, Integer, Float, Operator, End }

/// <summary>An expression token: a name, a literal, or an operator (punctuation included).</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Line)
{
    public bool Is(string op) => Kind == TokenKind.Operator && Text == op;
    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;
    public override string ToString() => Kind == TokenKind.End ? "end of tag" : $"'{Text}'";
}

/// <summary>
/// Splits a template into segments with Hugging Face's whitespace settings applied: <c>trim_blocks</c> (the newline
/// after a tag or comment is dropped), <c>lstrip_blocks</c> (spaces and tabs before a tag or comment at the start of a
/// line are dropped) and the <c>-</c> markers (all whitespace on that side is dropped); then tokenizes each tag.
/// </summary>
internal static class JinjaLexer
{
    public static List<Segment> Split(string source)
    {
        var segments = new List<Segment>();
        var text = new StringBuilder();
        int i = 0, line = 1;
        bool stripNextLeading = false, trimNextNewline = false;
        while (i < source.Length)
        {
            int open = FindOpen(source, i);
            string chunk = source.Substring(i, (open < 0 ? source.Length : open) - i);
            if (stripNextLeading) chunk = chunk.TrimStart();
            else if (trimNextNewline) chunk = chunk.StartsWith("\r\n", System.StringComparison.Ordinal) ? chunk[2..] : chunk.StartsWith('\n') ? chunk[1..] : chunk;
            stripNextLeading = trimNextNewline = false;
            if (open < 0) { text.Append(chunk); break; }
            char kind = source[open + 1];
            bool minusLeft = open + 2 < source.Length && source[open + 2] == '-';
            bool plusLeft = open + 2 < source.Length && source[open + 2] == '+';
            if (minusLeft) chunk = chunk.TrimEnd();
            else if (kind != '{' && !plusLeft) chunk = LstripLastLine(chunk);
            text.Append(chunk);
            line += Count(source, i, open);
            string close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
            int bodyStart = open + 2 + (minusLeft || plusLeft ? 1 : 0);
            int end = kind == '#' ? source.IndexOf(close, bodyStart, System.StringComparison.Ordinal) : FindClose(source, bodyStart, close);
            if (end < 0) throw new JinjaException($"unclosed '{source.Substring(open, 2)}' opened", line);
            bool minusRight = end > bodyStart && source[end - 1] == '-';
            string body = source.Substring(bodyStart, end - bodyStart - (minusRight ? 1 : 0));
            if (kind != '#')
            {
                if (text.Length > 0) { segments.Add(new Segment(SegmentKind.Text, text.ToString(), [], line)); text.Clear(); }
                var tokens = Tokenize(body, line);
                if (kind == '%' && body.Trim() == "raw")
                {
                    // {% raw %}...{% endraw %}: the text between is literal.
                    int stop = source.IndexOf("endraw", end, System.StringComparison.Ordinal);
                    int tagOpen = stop < 0 ? -1 : source.LastIndexOf("{%", stop, System.StringComparison.Ordinal);
                    int tagClose = stop < 0 ? -1 : source.IndexOf("%}", stop, System.StringComparison.Ordinal);
                    if (tagOpen < 0 || tagClose < 0) throw new JinjaException("'raw' without 'endraw'", line);
                    segments.Add(new Segment(SegmentKind.Text, source.Substring(end + 2, tagOpen - end - 2), [], line));
                    line += Count(source, open, tagClose);
                    i = tagClose + 2;
                    trimNextNewline = true;
                    continue;
                }
                segments.Add(new Segment(kind == '{' ? SegmentKind.Output : SegmentKind.Tag, body, tokens, line));
            }
            line += Count(source, open, end);
            i = end + 2;
            if (minusRight) stripNextLeading = true;
            else if (kind != '{') trimNextNewline = true;
        }
        if (text.Length > 0) segments.Add(new Segment(SegmentKind.Text, text.ToString(), [], line));
        return segments;
    }

    static int Count(string s, int from, int to)
    {
        int n = 0;
        for (int k = from; k < to && k < s.Length; k++) if (s[k] == '\n') n++;
        return n;
    }

    static int FindOpen(string s, int from)
    {
        for (int k = s.IndexOf('{', from); k >= 0 && k + 1 < s.Length; k = s.IndexOf('{', k + 1))
            if (s[k + 1] is '{' or '%' or '#') return k;
        return -1;
    }

    /// <summary>The closing delimiter, skipping any inside string literals.</summary>
    static int FindClose(string s, int from, string close)
    {
        char quote = '\0';
        for (int k = from; k + 1 < s.Length; k++)
        {
            char c = s[k];
            if (quote != '\0')
            {
                if (c == '\\') k++;
                else if (c == quote) quote = '\0';
            }
            else if (c is '\'' or '"') quote = c;
            else if (c == close[0] && s[k + 1] == close[1]) return k;
        }
        return -1;
    }

    /// <summary>lstrip_blocks: drops the spaces and tabs that stand alone before the tag on its line.</summary>
    static string LstripLastLine(string chunk)
    {
        int k = chunk.Length;
        while (k > 0 && chunk[k - 1] is ' ' or '\t') k--;
        return k == 0 || chunk[k - 1] == '\n' ? chunk[..k] : chunk;
    }

    static readonly string[] Operators = ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}", "="];

    public static List<Token> Tokenize(string body, int line)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < body.Length)
        {
            char c = body[i];
            if (char.IsWhiteSpace(c)) { if (c == '\n') line++; i++; continue; }
            if (char.IsLetter(c) || c == '_')
            {
                int s = i;
                while (i < body.Length && (char.IsLetterOrDigit(body[i]) || body[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Name, body[s..i], line));
                continue;
            }
            if (char.IsDigit(c))
            {
                int s = i;
                bool isFloat = false;
                while (i < body.Length && (char.IsDigit(body[i]) || body[i] == '_')) i++;
                if (i + 1 < body.Length && body[i] == '.' && char.IsDigit(body[i + 1]))
                {
                    isFloat = true;
                    i++;
                    while (i < body.Length && char.IsDigit(body[i])) i++;
                }
                if (i < body.Length && body[i] is 'e' or 'E')
                {
                    int e = i + 1;
                    if (e < body.Length && body[e] is '+' or '-') e++;
                    if (e < body.Length && char.IsDigit(body[e]))
                    {
                        isFloat = true;
                        i = e;
                        while (i < body.Length && char.IsDigit(body[i])) i++;
                    }
                }
                tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, body[s..i].Replace("_", ""), line));
                continue;
            }
            if (c is '\'' or '"')
            {
                tokens.Add(new Token(TokenKind.String, ReadString(body, ref i, line), line));
                continue;
            }
            string? op = null;
            foreach (var o in Operators)
                if (string.CompareOrdinal(body, i, o, 0, o.Length) == 0) { op = o; break; }
            if (op is null) throw new JinjaException($"unexpected character '{c}'", line);
            tokens.Add(new Token(TokenKind.Operator, op, line));
            i += op.Length;
        }
        tokens.Add(new Token(TokenKind.End, "", line));
        return tokens;
    }

    /// <summary>A quoted literal with Python's escapes (\n, \t, \r, \\, \', \", \uXXXX, \xXX).</summary>
    static string ReadString(string body, ref int i, int line)
    {
        char quote = body[i++];
        var sb = new StringBuilder();
        while (true)
        {
            if (i >= body.Length) throw new JinjaException("unterminated string literal", line);
            char c = body[i++];
            if (c == quote) return sb.ToString();
            if (c != '\\' || i >= body.Length) { sb.Append(c); continue; }
            char e = body[i++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'u' when i + 4 <= body.Length:
                    sb.Append((char)int.Parse(body.AsSpan(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 4; break;
                case 'x' when i + 2 <= body.Length:
                    sb.Append((char)int.Parse(body.AsSpan(i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 2; break;
                default: sb.Append('\\').Append(e); break;   // Python keeps unknown escapes as written
            }
        }
    }
}
