using System;
using System.Collections.Generic;

namespace Kiln.Transformers.Templates;

internal abstract class Expr
{
    public int Line;
    public abstract object? Eval(RenderContext ctx);

    protected JinjaException Error(string message) => new(message, Line);
}

internal sealed class LiteralExpr(object? value) : Expr
{
    public readonly object? Value = value;
    public override object? Eval(RenderContext ctx) => Value;
}

internal sealed class NameExpr(string name) : Expr
{
    public readonly string Name = name;
    public override object? Eval(RenderContext ctx) => ctx.Lookup(Name);
}

internal sealed class ListExpr(List<Expr> items) : Expr
{
    public override object? Eval(RenderContext ctx)
    {
        var list = new List<object?>(items.Count);
        foreach (var e in items) list.Add(e.Eval(ctx));
        return list;
    }
}

internal sealed class DictExpr(List<(Expr Key, Expr Value)> pairs) : Expr
{
    public override object? Eval(RenderContext ctx)
    {
        var d = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in pairs) d[JinjaValues.Str(k.Eval(ctx))] = v.Eval(ctx);
        return d;
    }
}

/// <summary><c>obj.name</c>: a dict's key, a namespace's attribute, a loop property (Undefined when missing).</summary>
internal sealed class AttrExpr(Expr target, string name) : Expr
{
    public readonly Expr Target = target;
    public readonly string Name = name;

    public override object? Eval(RenderContext ctx) => Get(Target.Eval(ctx), Name, this);

    public static object? Get(object? obj, string name, Expr at) => obj switch
    {
        OrderedDictionary<string, object?> d => d.TryGetValue(name, out var v) ? v : new Undefined(name),
        Namespace ns => ns.Values.TryGetValue(name, out var v) ? v : new Undefined(name),
        LoopInfo loop => loop.Get(name),
        Undefined u => throw new JinjaException($"'{u.Name}' is undefined (reading .{name})", at.Line),
        _ => new Undefined(name),
    };
}

/// <summary><c>obj[key]</c>: list and string positions (negative from the end), dict keys.</summary>
internal sealed class ItemExpr(Expr target, Expr key) : Expr
{
    public override object? Eval(RenderContext ctx)
    {
        var obj = Target.Eval(ctx);
        var k = key.Eval(ctx);
        switch (obj)
        {
            case List<object?> list when k is long i:
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : new Undefined($"[{k}]");
            case string s when k is long i:
                if (i < 0) i += s.Length;
                return i >= 0 && i < s.Length ? s[(int)i].ToString() : new Undefined($"[{k}]");
            case OrderedDictionary<string, object?> or Namespace or LoopInfo when k is string name:
                return AttrExpr.Get(obj, name, this);
            case Undefined u:
                throw Error($"'{u.Name}' is undefined (reading [{JinjaValues.Repr(k)}])");
            default:
                return new Undefined($"[{JinjaValues.Repr(k)}]");
        }
    }

    public Expr Target { get; } = target;
}

/// <summary><c>obj[start:stop:step]</c> with Python's slice rules on lists and strings.</summary>
internal sealed class SliceExpr(Expr target, Expr? start, Expr? stop, Expr? step) : Expr
{
    public override object? Eval(RenderContext ctx)
    {
        var obj = target.Eval(ctx);
        long? Bound(Expr? e) => e?.Eval(ctx) switch { null => null, long l => l, var v => throw Error($"slice indices must be integers, got {JinjaValues.TypeName(v)}") };
        long? a = Bound(start), b = Bound(stop), c = Bound(step);
        long stepV = c ?? 1;
        if (stepV == 0) throw Error("slice step cannot be zero");
        switch (obj)
        {
            case List<object?> list:
                var picked = new List<object?>();
                foreach (int i in Indices(list.Count, a, b, stepV)) picked.Add(list[i]);
                return picked;
            case string s:
                var sb = new System.Text.StringBuilder();
                foreach (int i in Indices(s.Length, a, b, stepV)) sb.Append(s[i]);
                return sb.ToString();
            default:
                throw Error($"'{JinjaValues.TypeName(obj)}' object is not subscriptable");
        }
    }

    static IEnumerable<int> Indices(int n, long? start, long? stop, long step)
    {
        long Clamp(long v, long lo, long hi) => Math.Max(lo, Math.Min(hi, v < 0 ? v + n : v));
        if (step > 0)
        {
            long s = start is { } x ? Clamp(x, 0, n) : 0, e = stop is { } y ? Clamp(y, 0, n) : n;
            for (long i = s; i < e; i += step) yield return (int)i;
        }
        else
        {
            long s = start is { } x ? Clamp(x, -1, n - 1) : n - 1, e = stop is { } y ? Clamp(y, -1, n - 1) : -1;
            for (long i = s; i > e; i += step) yield return (int)i;
        }
    }
}

/// <summary>A call: a method of a string, list or dict (<c>s.strip()</c>, <c>d.items()</c>), or a callable value.</summary>
internal sealed class CallExpr(Expr callee, List<Expr> args, List<(string Name, Expr Value)> kwargs) : Expr
{
    public override object? Eval(RenderContext ctx)
    {
        var positional = new List<object?>(args.Count);
        foreach (var a in args) positional.Add(a.Eval(ctx));
        var named = new Dictionary<string, object?>();
        foreach (var (n, v) in kwargs) named[n] = v.Eval(ctx);
        if (callee is AttrExpr attr)
        {
            var obj = attr.Target.Eval(ctx);
            if (obj is string or List<object?> or OrderedDictionary<string, object?>)
                return JinjaBuiltins.Method(obj, attr.Name, positional, named, this);
            var f = AttrExpr.Get(obj, attr.Name, this);
            return Invoke(f, attr.Name, positional, named);
        }
        return Invoke(callee.Eval(ctx), callee is NameExpr n2 ? n2.Name : "value", positional, named);
    }

    object? Invoke(object? f, string name, List<object?> positional, Dictionary<string, object?> named)
    {
        if (f is JinjaFunction fn)
        {
            try { return fn(positional, named); }
            catch (JinjaException e) when (e.Line == 0) { throw Error(e.Message); }
        }
        throw Error(f is Undefined ? $"'{name}' is undefined" : $"'{JinjaValues.TypeName(f)}' object is not callable");
    }
}

/// <summary><c>value | name(args)</c>.</summary>
internal sealed class FilterExpr(Expr value, string name, List<Expr> args, List<(string Name, Expr Value)> kwargs) : Expr
{
    public override object? Eval(RenderContext ctx)
    {
        var v = value.Eval(ctx);
        var positional = new List<object?>(args.Count);
        foreach (var a in args) positional.Add(a.Eval(ctx));
        var named = new Dictionary<string, object?>();
        foreach (var (n, e) in kwargs) named[n] = e.Eval(ctx);
        try { return JinjaBuiltins.Filter(name, v, positional, named); }
        catch (JinjaException e) when (e.Line == 0) { throw Error(e.Message); }
    }
}

/// <summary><c>value is [not] name(args)</c>.</summary>
internal sealed class TestExpr(Expr value, string name, List<Expr> args, bool negated) : Expr
{
    public override object? Eval(RenderContext ctx)
    {
        var v = value.Eval(ctx);
        var positional = new List<object?>(args.Count);
        foreach (var a in args) positional.Add(a.Eval(ctx));
        bool r;
        try { r = JinjaBuiltins.Test(name, v, positional); }
        catch (JinjaException e) when (e.Line == 0) { throw Error(e.Message); }
        return negated ? !r : r;
    }
}

internal sealed class UnaryExpr(string op, Expr operand) : Expr
{
    public override object? Eval(RenderContext ctx)
    {
        var v = operand.Eval(ctx);
        return op switch
        {
            "not" => !JinjaValues.Truthy(v),
            "-" => v is long l ? -l : (object)-JinjaValues.ToDouble(v),
            _ => v is long or double ? v : JinjaValues.ToDouble(v),
        };
    }
}

/// <summary>Binary operators with Python's semantics (and, or short-circuit and yield an operand).</summary>
internal sealed class BinaryExpr(string op, Expr left, Expr right) : Expr
{
    public override object? Eval(RenderContext ctx)
    {
        var a = left.Eval(ctx);
        switch (op)
        {
            case "and": return JinjaValues.Truthy(a) ? right.Eval(ctx) : a;
            case "or": return JinjaValues.Truthy(a) ? a : right.Eval(ctx);
        }
        var b = right.Eval(ctx);
        try { return JinjaBuiltins.Binary(op, a, b); }
        catch (JinjaException e) when (e.Line == 0) { throw Error(e.Message); }
    }
}

/// <summary><c>a if condition else b</c> (without else: Undefined).</summary>
internal sealed class ConditionalExpr(Expr condition, Expr then, Expr? otherwise) : Expr
{
    public override object? Eval(RenderContext ctx) =>
        JinjaValues.Truthy(condition.Eval(ctx)) ? then.Eval(ctx) : otherwise is null ? new Undefined("else") : otherwise.Eval(ctx);
}
