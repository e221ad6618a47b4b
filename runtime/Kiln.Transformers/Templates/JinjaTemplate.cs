using System;
using System.Collections.Generic;

namespace Kiln.Transformers.Templates;

/// <summary>
/// A Jinja template as Hugging Face runs chat templates (<c>trim_blocks</c>, <c>lstrip_blocks</c>, loop controls,
/// <c>raise_exception</c>, <c>strftime_now</c>, <c>tojson</c> keeping non-ASCII). Kiln implements the part of Jinja
/// that chat templates use: <c>if</c>/<c>elif</c>/<c>else</c>, <c>for</c> (with <c>loop</c>, filters, <c>else</c>,
/// <c>break</c>/<c>continue</c>), <c>set</c> (names, tuples, <c>namespace()</c> attributes, blocks), <c>raw</c>, Python's
/// expressions (slices, methods of str/list/dict, <c>in</c>, <c>~</c>, conditional expressions) and Jinja's common filters
/// and tests. Anything else fails when the template is parsed or rendered with a <see cref="JinjaException"/> naming it.
/// </summary>
public sealed class JinjaTemplate
{
    /// <summary>Loop iterations a render may run before it is stopped (a guard against runaway templates).</summary>
    public const int MaxSteps = 1_000_000;

    readonly List<Node> _body;

    /// <summary>Parses <paramref name="source"/>; a syntax error is a <see cref="JinjaException"/> with its line.</summary>
    public JinjaTemplate(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _body = JinjaParser.Parse(source);
    }

    /// <summary>
    /// Renders with <paramref name="variables"/>: strings, numbers, booleans, null, lists, dictionaries (string keys),
    /// <see cref="System.Text.Json.JsonElement"/>s and <see cref="Tokenization.ChatMessage"/>s. <paramref name="now"/> is
    /// the time <c>strftime_now</c> formats (default: the current local time). A template's own
    /// <c>raise_exception(message)</c> surfaces as <see cref="JinjaException"/> with that message.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, DateTime? now = null)
    {
        var globals = new Dictionary<string, object?>();
        JinjaBuiltins.AddGlobals(globals, () => now ?? DateTime.Now);
        foreach (var (k, v) in variables) globals[k] = JinjaValues.From(v);
        var ctx = new RenderContext(globals);
        try { Node.RenderAll(_body, ctx); }
        catch (TemplateRaised e) { throw new JinjaException(e.Message, 0); }
        return ctx.Output.ToString();
    }
}
