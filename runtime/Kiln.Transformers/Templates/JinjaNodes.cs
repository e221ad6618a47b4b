using System;
using System.Collections.Generic;
using System.Text;

namespace Kiln.Transformers.Templates;

/// <summary>A template error: the message, and the template line where it happened (0: not known).</summary>
public sealed class JinjaException(string message, int line) : Exception(message)
{
    /// <summary>The template line (1-based), or 0.</summary>
    public int Line { get; } = line;
}

/// <summary>Raised by a template's own <c>raise_exception(message)</c>.</summary>
internal sealed class TemplateRaised(string message) : Exception(message);

/// <summary>A callable value (globals such as namespace(), range(), raise_exception()).</summary>
internal delegate object? JinjaFunction(List<object?> args, Dictionary<string, object?> kwargs);

/// <summary>The variables of one render: nested scopes (a for loop's body is one), innermost last.</summary>
internal sealed class RenderContext
{
    readonly List<Dictionary<string, object?>> _scopes = [];
    public readonly StringBuilder Output = new();
    public int Steps;

    public RenderContext(Dictionary<string, object?> globals) => _scopes.Add(globals);

    public object? Lookup(string name)
    {
        for (int i = _scopes.Count - 1; i >= 0; i--)
            if (_scopes[i].TryGetValue(name, out var v)) return v;
        return new Undefined(name);
    }

    public void Set(string name, object? value) => _scopes[^1][name] = value;
    public void Push() => _scopes.Add([]);
    public void Pop() => _scopes.RemoveAt(_scopes.Count - 1);
}

/// <summary>How a statement ended: normally, or with a loop control.</summary>
internal enum Flow { Normal, Break, Continue }

internal abstract class Node
{
    public int Line;
    public abstract Flow Render(RenderContext ctx);

    public static Flow RenderAll(List<Node> body, RenderContext ctx)
    {
        foreach (var n in body)
        {
            var f = n.Render(ctx);
            if (f != Flow.Normal) return f;
        }
        return Flow.Normal;
    }
}

internal sealed class TextNode(string text) : Node
{
    public override Flow Render(RenderContext ctx) { ctx.Output.Append(text); return Flow.Normal; }
}

internal sealed class OutputNode(Expr expr) : Node
{
    public override Flow Render(RenderContext ctx) { ctx.Output.Append(JinjaValues.Str(expr.Eval(ctx))); return Flow.Normal; }
}

internal sealed class IfNode(List<(Expr Condition, List<Node> Body)> branches, List<Node>? otherwise) : Node
{
    public override Flow Render(RenderContext ctx)
    {
        foreach (var (c, body) in branches)
            if (JinjaValues.Truthy(c.Eval(ctx))) return RenderAll(body, ctx);
        return otherwise is null ? Flow.Normal : RenderAll(otherwise, ctx);
    }
}

/// <summary><c>{% for a[, b] in items [if cond] %}...{% else %}...{% endfor %}</c> with Jinja's <c>loop</c> variable.</summary>
internal sealed class ForNode(List<string> targets, Expr items, Expr? filter, List<Node> body, List<Node>? otherwise) : Node
{
    public override Flow Render(RenderContext ctx)
    {
        var all = JinjaValues.Iterate(items.Eval(ctx));
        var chosen = all;
        if (filter is not null)
        {
            chosen = [];
            foreach (var item in all)
            {
                ctx.Push();
                Bind(ctx, item);
                if (JinjaValues.Truthy(filter.Eval(ctx))) chosen.Add(item);
                ctx.Pop();
            }
        }
        if (chosen.Count == 0) return otherwise is null ? Flow.Normal : RenderAll(otherwise, ctx);
        for (int i = 0; i < chosen.Count; i++)
        {
            if (++ctx.Steps > JinjaTemplate.MaxSteps) throw new JinjaException($"the template ran more than {JinjaTemplate.MaxSteps} loop steps", Line);
            ctx.Push();
            try
            {
                Bind(ctx, chosen[i]);
                ctx.Set("loop", new LoopInfo(chosen, i));
                if (RenderAll(body, ctx) == Flow.Break) break;
            }
            finally { ctx.Pop(); }
        }
        return Flow.Normal;
    }

    void Bind(RenderContext ctx, object? item)
    {
        if (targets.Count == 1) { ctx.Set(targets[0], item); return; }
        var parts = item as List<object?> ?? throw new JinjaException($"cannot unpack {JinjaValues.TypeName(item)} into {targets.Count} names", Line);
        if (parts.Count != targets.Count) throw new JinjaException($"expected {targets.Count} values to unpack, got {parts.Count}", Line);
        for (int k = 0; k < targets.Count; k++) ctx.Set(targets[k], parts[k]);
    }
}

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class LoopInfo(List<object?> items, int index)
{
    public object? Get(string name) => name switch
    {
        "index0" => (long)index,
        "index" => (long)index + 1,
        "revindex0" => (long)(items.Count - 1 - index),
        "revindex" => (long)(items.Count - index),
        "first" => index == 0,
        "last" => index == items.Count - 1,
        "length" => (long)items.Count,
        "previtem" => index > 0 ? items[index - 1] : new Undefined("loop.previtem"),
        "nextitem" => index + 1 < items.Count ? items[index + 1] : new Undefined("loop.nextitem"),
        "cycle" => (JinjaFunction)((args, _) => args.Count == 0 ? null : args[index % args.Count]),
        _ => new Undefined("loop." + name),
    };
}

/// <summary><c>{% set name = value %}</c>, <c>{% set a, b = value %}</c> or <c>{% set ns.attr = value %}</c>.</summary>
internal sealed class SetNode(List<string> targets, string? attribute, Expr value) : Node
{
    public override Flow Render(RenderContext ctx)
    {
        var v = value.Eval(ctx);
        if (attribute is not null)
        {
            var target = ctx.Lookup(targets[0]);
            if (target is not Namespace ns) throw new JinjaException($"cannot set attribute '{attribute}' of {JinjaValues.TypeName(target)} (only a namespace())", Line);
            ns.Values[attribute] = v;
        }
        else if (targets.Count == 1) ctx.Set(targets[0], v);
        else
        {
            var parts = v as List<object?> ?? throw new JinjaException($"cannot unpack {JinjaValues.TypeName(v)}", Line);
            if (parts.Count != targets.Count) throw new JinjaException($"expected {targets.Count} values to unpack, got {parts.Count}", Line);
            for (int k = 0; k < targets.Count; k++) ctx.Set(targets[k], parts[k]);
        }
        return Flow.Normal;
    }
}

/// <summary><c>{% set name %}...{% endset %}</c>: the rendered block becomes the value.</summary>
internal sealed class SetBlockNode(string name, List<Node> body) : Node
{
    public override Flow Render(RenderContext ctx)
    {
        int start = ctx.Output.Length;
        RenderAll(body, ctx);
        string text = ctx.Output.ToString(start, ctx.Output.Length - start);
        ctx.Output.Length = start;
        ctx.Set(name, text);
        return Flow.Normal;
    }
}

internal sealed class LoopControlNode(Flow flow) : Node
{
    public override Flow Render(RenderContext ctx) => flow;
}
