using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kiln.Transformers.Tokenization;

namespace Kiln.Transformers.Templates;

/// <summary>A name that has no value (Jinja's Undefined): empty when printed, false when tested, empty when iterated.</summary>
internal sealed class Undefined(string name)
{
    public string Name { get; } = name;
}

/// <summary>Jinja's <c>namespace(...)</c>: attributes that a <c>set</c> inside a loop can change.</summary>
internal sealed class Namespace
{
    public readonly OrderedDictionary<string, object?> Values = new();
}

/// <summary>
/// The values templates compute with, Python's: null (None), bool, long, double, string, lists
/// (<see cref="List{T}"/>), dicts (<see cref="OrderedDictionary{TKey, TValue}"/>, insertion order kept for tojson),
/// <see cref="Undefined"/> and <see cref="Namespace"/>; and the conversions, comparisons and printing between them.
/// </summary>
internal static class JinjaValues
{
    /// <summary>A caller's value in the template's model: JSON elements, records of messages, dictionaries and sequences.</summary>
    public static object? From(object? v) => v switch
    {
        null => null,
        string or bool or long or double or Undefined or Namespace => v,
        int or short or byte or sbyte or ushort or uint => Convert.ToInt64(v, CultureInfo.InvariantCulture),
        ulong u => (long)u,
        float or decimal => Convert.ToDouble(v, CultureInfo.InvariantCulture),
        JsonElement e => FromJson(e),
        ChatMessage m => new OrderedDictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content },
        IEnumerable<KeyValuePair<string, object?>> d => FromPairs(d),
        IDictionary d => FromDictionary(d),
        IEnumerable e => FromSequence(e),
        _ => throw new JinjaException($"a value of type {v.GetType().Name} cannot be passed to a template (use strings, numbers, booleans, lists, dictionaries or JSON)", 0),
    };

    static OrderedDictionary<string, object?> FromPairs(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var d = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in pairs) d[k] = From(v);
        return d;
    }

    static OrderedDictionary<string, object?> FromDictionary(IDictionary source)
    {
        var d = new OrderedDictionary<string, object?>();
        foreach (DictionaryEntry e in source) d[Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? ""] = From(e.Value);
        return d;
    }

    static List<object?> FromSequence(IEnumerable e)
    {
        var list = new List<object?>();
        foreach (var item in e) list.Add(From(item));
        return list;
    }

    static object? FromJson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.Null: case JsonValueKind.Undefined: return null;
            case JsonValueKind.Number: return e.TryGetInt64(out long l) ? l : e.GetDouble();
            case JsonValueKind.Array:
                var list = new List<object?>();
                foreach (var x in e.EnumerateArray()) list.Add(FromJson(x));
                return list;
            default:
                var d = new OrderedDictionary<string, object?>();
                foreach (var p in e.EnumerateObject()) d[p.Name] = FromJson(p.Value);
                return d;
        }
    }

    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    /// <summary>Python's str() of a value (what <c>{{ }}</c> prints); Undefined prints nothing.</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(v, top: true),
    };

    /// <summary>Python's repr(): strings quoted inside containers, True/False/None.</summary>
    public static string Repr(object? v, bool top = false)
    {
        switch (v)
        {
            case null: return "None";
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FloatRepr(d);
            case string s: return top ? s : "'" + s.Replace("\\", "\\\\").Replace("'", "\\'").Replace("\n", "\\n") + "'";
            case Undefined: return "";
            case List<object?> list:
                var sb = new StringBuilder("[");
                for (int i = 0; i < list.Count; i++) sb.Append(i > 0 ? ", " : "").Append(Repr(list[i]));
                return sb.Append(']').ToString();
            case OrderedDictionary<string, object?> dict:
                var db = new StringBuilder("{");
                int n = 0;
                foreach (var (k, x) in dict) db.Append(n++ > 0 ? ", " : "").Append(Repr(k)).Append(": ").Append(Repr(x));
                return db.Append('}').ToString();
            case Namespace: return "<Namespace>";
            default: return v.ToString() ?? "";
        }
    }

    /// <summary>Python's float repr: shortest round-trip digits, ".0" on whole numbers, exponents as e+XX/e-XX.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        string r = d.ToString("R", CultureInfo.InvariantCulture);
        int ei = r.IndexOf('E');
        double a = Math.Abs(d);
        if (a != 0 && (a >= 1e16 || a < 1e-4))
        {
            string mant;
            int exp;
            if (ei >= 0) { mant = r[..ei]; exp = int.Parse(r[(ei + 1)..], CultureInfo.InvariantCulture); }
            else { exp = (int)Math.Floor(Math.Log10(a)); mant = (d / Math.Pow(10, exp)).ToString("R", CultureInfo.InvariantCulture); }
            return $"{mant}e{(exp < 0 ? '-' : '+')}{Math.Abs(exp):00}";
        }
        if (ei >= 0) r = d.ToString("0.#################", CultureInfo.InvariantCulture);   // .NET chose an exponent where Python does not
        return r.Contains('.') ? r : r + ".0";
    }

    public static bool Equal(object? a, object? b)
    {
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a) == ToDouble(b) && (a is not long la || b is not long lb || la == lb);
        return (a, b) switch
        {
            (null, null) => true,
            (string x, string y) => x == y,
            (List<object?> x, List<object?> y) => ListEqual(x, y),
            (OrderedDictionary<string, object?> x, OrderedDictionary<string, object?> y) => DictEqual(x, y),
            _ => ReferenceEquals(a, b),
        };
    }

    static bool ListEqual(List<object?> x, List<object?> y)
    {
        if (x.Count != y.Count) return false;
        for (int i = 0; i < x.Count; i++) if (!Equal(x[i], y[i])) return false;
        return true;
    }

    static bool DictEqual(OrderedDictionary<string, object?> x, OrderedDictionary<string, object?> y)
    {
        if (x.Count != y.Count) return false;
        foreach (var (k, v) in x) if (!y.TryGetValue(k, out var w) || !Equal(v, w)) return false;
        return true;
    }

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaException($"expected a number, got {TypeName(v)}", 0),
    };

    /// <summary>Python's type name of a value, for messages.</summary>
    public static string TypeName(object? v) => v switch
    {
        null => "None",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        Undefined u => $"undefined '{u.Name}'",
        Namespace => "namespace",
        _ => v.GetType().Name,
    };

    /// <summary>The items a for loop visits: list elements, a dict's keys, a string's characters; Undefined gives none.</summary>
    public static List<object?> Iterate(object? v) => v switch
    {
        List<object?> list => list,
        OrderedDictionary<string, object?> dict => new List<object?>(dict.Keys),
        string s => StringChars(s),
        Undefined or null => v is null ? throw new JinjaException("'NoneType' object is not iterable", 0) : [],
        _ => throw new JinjaException($"'{TypeName(v)}' object is not iterable", 0),
    };

    static List<object?> StringChars(string s)
    {
        var list = new List<object?>();
        for (int i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1) list.Add(s.Substring(i, char.IsSurrogatePair(s, i) ? 2 : 1));
        return list;
    }

    /// <summary>
    /// JSON as Python's json.dumps writes it (Hugging Face's tojson filter): ", " and ": " between items unless
    /// <paramref name="indent"/> is given (then "," at line ends), non-ASCII kept unless <paramref name="ensureAscii"/>.
    /// </summary>
    public static string ToJson(object? v, int? indent, bool ensureAscii, bool sortKeys, string? itemSeparator = null, string? keySeparator = null)
    {
        var sb = new StringBuilder();
        WriteJson(sb, v, indent, 0, ensureAscii, sortKeys, itemSeparator ?? (indent is null ? ", " : ","), keySeparator ?? ": ");
        return sb.ToString();
    }

    static void WriteJson(StringBuilder sb, object? v, int? indent, int level, bool ascii, bool sort, string itemSep, string keySep)
    {
        switch (v)
        {
            case null: sb.Append("null"); return;
            case bool b: sb.Append(b ? "true" : "false"); return;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); return;
            case double d: sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : FloatRepr(d)); return;
            case string s: JsonString(sb, s, ascii); return;
            case Undefined u: throw new JinjaException($"'{u.Name}' is undefined (tojson)", 0);
            case Namespace ns: WriteJson(sb, DictOf(ns), indent, level, ascii, sort, itemSep, keySep); return;
            case List<object?> list:
                if (list.Count == 0) { sb.Append("[]"); return; }
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(itemSep);
                    NewLine(sb, indent, level + 1);
                    WriteJson(sb, list[i], indent, level + 1, ascii, sort, itemSep, keySep);
                }
                NewLine(sb, indent, level);
                sb.Append(']');
                return;
            case OrderedDictionary<string, object?> dict:
                if (dict.Count == 0) { sb.Append("{}"); return; }
                var keys = new List<string>(dict.Keys);
                if (sort) keys.Sort(StringComparer.Ordinal);
                sb.Append('{');
                for (int i = 0; i < keys.Count; i++)
                {
                    if (i > 0) sb.Append(itemSep);
                    NewLine(sb, indent, level + 1);
                    JsonString(sb, keys[i], ascii);
                    sb.Append(keySep);
                    WriteJson(sb, dict[keys[i]], indent, level + 1, ascii, sort, itemSep, keySep);
                }
                NewLine(sb, indent, level);
                sb.Append('}');
                return;
            default: throw new JinjaException($"Object of type {TypeName(v)} is not JSON serializable", 0);
        }
    }

    static OrderedDictionary<string, object?> DictOf(Namespace ns)
    {
        var d = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in ns.Values) d[k] = v;
        return d;
    }

    static void NewLine(StringBuilder sb, int? indent, int level)
    {
        if (indent is not { } n) return;
        sb.Append('\n').Append(' ', n * level);
    }

    static void JsonString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c > 0x7e)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
