using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Kiln.Transformers.Templates;

/// <summary>
/// The operators, filters, tests, methods and global functions chat templates use, with Jinja's and Python's meaning.
/// Anything else is a <see cref="JinjaException"/> naming it (never a silent empty string).
/// </summary>
internal static class JinjaBuiltins
{
    public static object? Binary(string op, object? a, object? b)
    {
        switch (op)
        {
            case "==": return JinjaValues.Equal(a, b);
            case "!=": return !JinjaValues.Equal(a, b);
            case "in": return Contains(b, a);
            case "not in": return !Contains(b, a);
            case "~": return JinjaValues.Str(a) + JinjaValues.Str(b);
            case "<": return Compare(a, b, op) < 0;
            case ">": return Compare(a, b, op) > 0;
            case "<=": return Compare(a, b, op) <= 0;
            case ">=": return Compare(a, b, op) >= 0;
            case "+":
                if (a is string sa && b is string sb) return sa + sb;
                if (a is List<object?> la && b is List<object?> lb) { var l = new List<object?>(la); l.AddRange(lb); return l; }
                break;
            case "*":
                if (a is string rs && b is long rn) return Repeat(rs, rn);
                break;
        }
        if (!JinjaValues.IsNumber(a) || !JinjaValues.IsNumber(b))
            throw new JinjaException($"unsupported operand types for {op}: '{JinjaValues.TypeName(a)}' and '{JinjaValues.TypeName(b)}'", 0);
        bool ints = a is long or bool && b is long or bool;
        if (ints)
        {
            long x = (long)JinjaValues.ToDouble(a), y = (long)JinjaValues.ToDouble(b);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "//": if (y == 0) throw new JinjaException("integer division by zero", 0); return (long)Math.Floor((double)x / y);
                case "%": if (y == 0) throw new JinjaException("integer modulo by zero", 0); return ((x % y) + y) % y;
                case "**" when y >= 0: return (long)Math.Pow(x, y);
            }
        }
        double p = JinjaValues.ToDouble(a), q = JinjaValues.ToDouble(b);
        return op switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "/" => q == 0 ? throw new JinjaException("division by zero", 0) : p / q,
            "//" => q == 0 ? throw new JinjaException("division by zero", 0) : Math.Floor(p / q),
            "%" => q == 0 ? throw new JinjaException("modulo by zero", 0) : p - q * Math.Floor(p / q),
            "**" => Math.Pow(p, q),
            _ => throw new JinjaException($"unknown operator {op}", 0),
        };
    }

    static string Repeat(string s, long n)
    {
        var sb = new StringBuilder();
        for (long i = 0; i < n; i++) sb.Append(s);
        return sb.ToString();
    }

    static int Compare(object? a, object? b, string op)
    {
        if (JinjaValues.IsNumber(a) && JinjaValues.IsNumber(b)) return JinjaValues.ToDouble(a).CompareTo(JinjaValues.ToDouble(b));
        if (a is string x && b is string y) return string.CompareOrdinal(x, y);
        throw new JinjaException($"'{op}' not supported between '{JinjaValues.TypeName(a)}' and '{JinjaValues.TypeName(b)}'", 0);
    }

    static bool Contains(object? container, object? item) => container switch
    {
        string s => item is string sub ? s.Contains(sub, StringComparison.Ordinal) : throw new JinjaException($"'in <string>' requires string as left operand, not {JinjaValues.TypeName(item)}", 0),
        List<object?> list => list.Exists(x => JinjaValues.Equal(x, item)),
        OrderedDictionary<string, object?> d => item is string k && d.ContainsKey(k),
        Namespace ns => item is string k && ns.Values.ContainsKey(k),
        Undefined => false,
        _ => throw new JinjaException($"argument of type '{JinjaValues.TypeName(container)}' is not iterable", 0),
    };

    static object? Arg(List<object?> args, Dictionary<string, object?> kwargs, int index, string name, object? fallback) =>
        index < args.Count ? args[index] : kwargs.TryGetValue(name, out var v) ? v : fallback;

    public static object? Filter(string name, object? v, List<object?> args, Dictionary<string, object?> kwargs)
    {
        switch (name)
        {
            case "length" or "count":
                return v switch
                {
                    string s => (long)s.Length,
                    List<object?> l => (long)l.Count,
                    OrderedDictionary<string, object?> d => (long)d.Count,
                    Undefined => 0L,
                    _ => throw new JinjaException($"object of type '{JinjaValues.TypeName(v)}' has no len()", 0),
                };
            case "trim":
                return Arg(args, kwargs, 0, "chars", null) is string chars ? JinjaValues.Str(v).Trim(chars.ToCharArray()) : JinjaValues.Str(v).Trim();
            case "string": return JinjaValues.Str(v);
            case "upper": return JinjaValues.Str(v).ToUpperInvariant();
            case "lower": return JinjaValues.Str(v).ToLowerInvariant();
            case "capitalize": { var s = JinjaValues.Str(v); return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant(); }
            case "title": return CultureInfo.InvariantCulture.TextInfo.ToTitleCase(JinjaValues.Str(v).ToLowerInvariant());
            case "replace": return JinjaValues.Str(v).Replace(JinjaValues.Str(Arg(args, kwargs, 0, "old", "")), JinjaValues.Str(Arg(args, kwargs, 1, "new", "")), StringComparison.Ordinal);
            case "default" or "d":
            {
                bool boolean = JinjaValues.Truthy(Arg(args, kwargs, 1, "boolean", false));
                return v is Undefined || (boolean && !JinjaValues.Truthy(v)) ? Arg(args, kwargs, 0, "default_value", "") : v;
            }
            case "first": { var l = JinjaValues.Iterate(v); return l.Count > 0 ? l[0] : new Undefined("first"); }
            case "last": { var l = JinjaValues.Iterate(v); return l.Count > 0 ? l[^1] : new Undefined("last"); }
            case "list": return new List<object?>(JinjaValues.Iterate(v));
            case "reverse":
                if (v is string rs) { var c = rs.ToCharArray(); Array.Reverse(c); return new string(c); }
                { var l = new List<object?>(JinjaValues.Iterate(v)); l.Reverse(); return l; }
            case "join":
            {
                string sep = JinjaValues.Str(Arg(args, kwargs, 0, "d", ""));
                var attribute = Arg(args, kwargs, 1, "attribute", null) as string;
                var sb = new StringBuilder();
                var items = JinjaValues.Iterate(v);
                for (int i = 0; i < items.Count; i++)
                    sb.Append(i > 0 ? sep : "").Append(JinjaValues.Str(attribute is null ? items[i] : AttrExpr.Get(items[i], attribute, new LiteralExpr(null))));
                return sb.ToString();
            }
            case "items":
            {
                if (v is not OrderedDictionary<string, object?> d) throw new JinjaException($"items: expected a dict, got {JinjaValues.TypeName(v)}", 0);
                return Items(d);
            }
            case "int": return v switch { long l => l, double d => (long)Math.Truncate(d), bool b => b ? 1L : 0L, string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) => p, _ => Arg(args, kwargs, 0, "default", 0L) };
            case "float": return v switch { long l => (double)l, double d => d, string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p, _ => Arg(args, kwargs, 0, "default", 0.0) };
            case "abs": return v is long al ? Math.Abs(al) : Math.Abs(JinjaValues.ToDouble(v));
            case "tojson":
            {
                var indent = Arg(args, kwargs, 0, "indent", null);
                bool ascii = JinjaValues.Truthy(Arg(args, kwargs, 1, "ensure_ascii", false));
                bool sort = JinjaValues.Truthy(kwargs.GetValueOrDefault("sort_keys", false));
                string? itemSep = null, keySep = null;
                if (kwargs.GetValueOrDefault("separators") is List<object?> { Count: 2 } seps) { itemSep = JinjaValues.Str(seps[0]); keySep = JinjaValues.Str(seps[1]); }
                return JinjaValues.ToJson(v, indent is long n ? (int)n : null, ascii, sort, itemSep, keySep);
            }
            case "selectattr" or "rejectattr":
            {
                bool select = name == "selectattr";
                string attribute = JinjaValues.Str(Arg(args, kwargs, 0, "attribute", ""));
                string? test = args.Count > 1 ? JinjaValues.Str(args[1]) : null;
                var testArgs = args.Count > 2 ? args.GetRange(2, args.Count - 2) : [];
                var kept = new List<object?>();
                foreach (var item in JinjaValues.Iterate(v))
                {
                    var a = AttrExpr.Get(item, attribute, new LiteralExpr(null));
                    bool ok = test is null ? JinjaValues.Truthy(a) : Test(test, a, testArgs);
                    if (ok == select) kept.Add(item);
                }
                return kept;
            }
            case "map":
            {
                var mapped = new List<object?>();
                if (kwargs.GetValueOrDefault("attribute") is string at)
                    foreach (var item in JinjaValues.Iterate(v)) mapped.Add(AttrExpr.Get(item, at, new LiteralExpr(null)));
                else if (args.Count > 0 && args[0] is string filter)
                    foreach (var item in JinjaValues.Iterate(v)) mapped.Add(Filter(filter, item, args.GetRange(1, args.Count - 1), []));
                else throw new JinjaException("map: expected attribute= or a filter name", 0);
                return mapped;
            }
            case "unique":
            {
                var seen = new List<object?>();
                foreach (var item in JinjaValues.Iterate(v)) if (!seen.Exists(x => JinjaValues.Equal(x, item))) seen.Add(item);
                return seen;
            }
            default: throw new JinjaException($"no filter named '{name}'", 0);
        }
    }

    static List<object?> Items(OrderedDictionary<string, object?> d)
    {
        var list = new List<object?>(d.Count);
        foreach (var (k, x) in d) list.Add(new List<object?> { k, x });
        return list;
    }

    public static bool Test(string name, object? v, List<object?> args) => name switch
    {
        "defined" => v is not Undefined,
        "undefined" => v is Undefined,
        "none" => v is null,
        "string" => v is string,
        "number" => v is long or double,
        "integer" => v is long,
        "float" => v is double,
        "boolean" => v is bool,
        "true" => v is true,
        "false" => v is false,
        "mapping" => v is OrderedDictionary<string, object?> or Namespace,
        "iterable" => v is string or List<object?> or OrderedDictionary<string, object?>,
        "sequence" => v is string or List<object?> or OrderedDictionary<string, object?>,
        "callable" => v is JinjaFunction,
        "even" => v is long e && e % 2 == 0,
        "odd" => v is long o && o % 2 != 0,
        "divisibleby" => v is long dv && args.Count == 1 && args[0] is long by && by != 0 && dv % by == 0,
        "eq" or "equalto" or "==" => args.Count == 1 && JinjaValues.Equal(v, args[0]),
        "ne" or "!=" => args.Count == 1 && !JinjaValues.Equal(v, args[0]),
        "in" => args.Count == 1 && Contains(args[0], v),
        "lower" => v is string ls && ls == ls.ToLowerInvariant(),
        "upper" => v is string us && us == us.ToUpperInvariant(),
        _ => throw new JinjaException($"no test named '{name}'", 0),
    };

    /// <summary>Methods of Python's str, list and dict that templates call.</summary>
    public static object? Method(object obj, string name, List<object?> args, Dictionary<string, object?> kwargs, Expr at)
    {
        try
        {
            switch (obj)
            {
                case string s: return StringMethod(s, name, args, kwargs);
                case OrderedDictionary<string, object?> d:
                    switch (name)
                    {
                        case "items": return Items(d);
                        case "keys": return new List<object?>(d.Keys);
                        case "values": return new List<object?>(d.Values);
                        case "get": return args.Count > 0 && args[0] is string k && d.TryGetValue(k, out var v) ? v : Arg(args, kwargs, 1, "default", null);
                    }
                    break;
                case List<object?> list:
                    switch (name)
                    {
                        case "index":
                            for (int i = 0; i < list.Count; i++) if (JinjaValues.Equal(list[i], Arg(args, kwargs, 0, "value", null))) return (long)i;
                            throw new JinjaException("list.index(x): x not in list", 0);
                        case "count":
                        { long n = 0; foreach (var x in list) if (JinjaValues.Equal(x, Arg(args, kwargs, 0, "value", null))) n++; return n; }
                    }
                    break;
            }
        }
        catch (JinjaException e) when (e.Line == 0) { throw new JinjaException(e.Message, at.Line); }
        throw new JinjaException($"'{JinjaValues.TypeName(obj)}' object has no method '{name}' (or it changes the value, which templates may not)", at.Line);
    }

    static object? StringMethod(string s, string name, List<object?> args, Dictionary<string, object?> kwargs)
    {
        string? Chars(int i) => Arg(args, kwargs, i, "chars", null) as string;
        switch (name)
        {
            case "strip": return Chars(0) is { } c ? s.Trim(c.ToCharArray()) : s.Trim();
            case "lstrip": return Chars(0) is { } l ? s.TrimStart(l.ToCharArray()) : s.TrimStart();
            case "rstrip": return Chars(0) is { } r ? s.TrimEnd(r.ToCharArray()) : s.TrimEnd();
            case "upper": return s.ToUpperInvariant();
            case "lower": return s.ToLowerInvariant();
            case "title": return CultureInfo.InvariantCulture.TextInfo.ToTitleCase(s.ToLowerInvariant());
            case "capitalize": return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
            case "startswith": return StartsOrEnds(s, Arg(args, kwargs, 0, "prefix", ""), start: true);
            case "endswith": return StartsOrEnds(s, Arg(args, kwargs, 0, "suffix", ""), start: false);
            case "replace":
            {
                string old = JinjaValues.Str(Arg(args, kwargs, 0, "old", "")), rep = JinjaValues.Str(Arg(args, kwargs, 1, "new", ""));
                return old.Length == 0 ? s : s.Replace(old, rep, StringComparison.Ordinal);
            }
            case "find": return (long)s.IndexOf(JinjaValues.Str(Arg(args, kwargs, 0, "sub", "")), StringComparison.Ordinal);
            case "count":
            {
                string sub = JinjaValues.Str(Arg(args, kwargs, 0, "sub", ""));
                if (sub.Length == 0) return (long)s.Length + 1;
                long n = 0;
                for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
                return n;
            }
            case "split": return Split(s, Arg(args, kwargs, 0, "sep", null) as string, Arg(args, kwargs, 1, "maxsplit", -1L) is long m ? m : -1);
            case "splitlines":
            {
                var list = new List<object?>();
                foreach (var part in s.Replace("\r\n", "\n").Split('\n')) list.Add(part);
                if (list.Count > 0 && (string)list[^1]! == "") list.RemoveAt(list.Count - 1);
                return list;
            }
            case "join":
            {
                var sb = new StringBuilder();
                var items = JinjaValues.Iterate(Arg(args, kwargs, 0, "iterable", null));
                for (int i = 0; i < items.Count; i++) sb.Append(i > 0 ? s : "").Append(JinjaValues.Str(items[i]));
                return sb.ToString();
            }
            case "isdigit": return s.Length > 0 && s.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0;
            case "isspace": return s.Length > 0 && string.IsNullOrWhiteSpace(s);
        }
        throw new JinjaException($"'str' object has no method '{name}'", 0);
    }

    static bool StartsOrEnds(string s, object? what, bool start)
    {
        if (what is List<object?> options)
        {
            foreach (var o in options) if (StartsOrEnds(s, o, start)) return true;
            return false;
        }
        string p = JinjaValues.Str(what);
        return start ? s.StartsWith(p, StringComparison.Ordinal) : s.EndsWith(p, StringComparison.Ordinal);
    }

    /// <summary>Python's str.split: on a separator, or (none) on runs of whitespace with empty ends dropped.</summary>
    static List<object?> Split(string s, string? sep, long maxsplit)
    {
        var parts = new List<object?>();
        if (sep is null)
        {
            int i = 0;
            while (i < s.Length)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxsplit >= 0 && parts.Count == maxsplit) { parts.Add(s[i..].TrimEnd()); return parts; }
                int j = i;
                while (j < s.Length && !char.IsWhiteSpace(s[j])) j++;
                parts.Add(s[i..j]);
                i = j;
            }
            return parts;
        }
        if (sep.Length == 0) throw new JinjaException("empty separator", 0);
        int start = 0;
        for (int k = s.IndexOf(sep, StringComparison.Ordinal); k >= 0 && (maxsplit < 0 || parts.Count < maxsplit); k = s.IndexOf(sep, start, StringComparison.Ordinal))
        {
            parts.Add(s[start..k]);
            start = k + sep.Length;
        }
        parts.Add(s[start..]);
        return parts;
    }

    /// <summary>The globals every chat template sees: namespace, range, dict, raise_exception, strftime_now.</summary>
    public static void AddGlobals(Dictionary<string, object?> globals, Func<DateTime> now)
    {
        globals["namespace"] = (JinjaFunction)((args, kwargs) =>
        {
            var ns = new Namespace();
            if (args.Count > 0 && args[0] is OrderedDictionary<string, object?> init) foreach (var (k, v) in init) ns.Values[k] = v;
            foreach (var (k, v) in kwargs) ns.Values[k] = v;
            return ns;
        });
        globals["dict"] = (JinjaFunction)((_, kwargs) =>
        {
            var d = new OrderedDictionary<string, object?>();
            foreach (var (k, v) in kwargs) d[k] = v;
            return d;
        });
        globals["range"] = (JinjaFunction)((args, _) =>
        {
            long Int(int i) => args[i] is long l ? l : throw new JinjaException("range() takes integers", 0);
            long start = args.Count > 1 ? Int(0) : 0, stop = args.Count > 1 ? Int(1) : args.Count == 1 ? Int(0) : 0, step = args.Count > 2 ? Int(2) : 1;
            if (step == 0) throw new JinjaException("range() step must not be zero", 0);
            var list = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
            {
                if (list.Count >= JinjaTemplate.MaxSteps) throw new JinjaException($"range() longer than {JinjaTemplate.MaxSteps}", 0);
                list.Add(i);
            }
            return list;
        });
        globals["raise_exception"] = (JinjaFunction)((args, _) => throw new TemplateRaised(args.Count > 0 ? JinjaValues.Str(args[0]) : "raise_exception"));
        globals["strftime_now"] = (JinjaFunction)((args, _) => StrFTime(now(), args.Count > 0 ? JinjaValues.Str(args[0]) : "%Y-%m-%d"));
    }

    /// <summary>Python's strftime for the directives templates use (%d %b %B %Y %y %m %H %M %S %a %A %j %p %%).</summary>
    public static string StrFTime(DateTime t, string format)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            char d = format[++i];
            sb.Append(d switch
            {
                'd' => t.ToString("dd", inv),
                'b' => t.ToString("MMM", inv),
                'B' => t.ToString("MMMM", inv),
                'Y' => t.ToString("yyyy", inv),
                'y' => t.ToString("yy", inv),
                'm' => t.ToString("MM", inv),
                'H' => t.ToString("HH", inv),
                'I' => t.ToString("hh", inv),
                'M' => t.ToString("mm", inv),
                'S' => t.ToString("ss", inv),
                'a' => t.ToString("ddd", inv),
                'A' => t.ToString("dddd", inv),
                'p' => t.ToString("tt", inv),
                'j' => t.DayOfYear.ToString("000", inv),
                '%' => "%",
                _ => "%" + d,
            });
        }
        return sb.ToString();
    }
}
