using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Kiln.Transformers.Tokenization;

/// <summary>
/// A Hugging Face tokenizer (<c>tokenizer.json</c> + <c>tokenizer_config.json</c>): added and special tokens matched in
/// the raw text first, the model (byte-level BPE, SentencePiece-style BPE/Unigram, WordPiece) on the text between them,
/// the post-processor's special tokens around; batches padded with attention masks; decoding; chat templates of the
/// common families. Load with <see cref="AutoTokenizer.FromPretrained"/>.
/// </summary>
public sealed class PreTrainedTokenizer
{
    readonly ISegmentModel _model;
    readonly Dictionary<char, List<AddedToken>> _addedByFirst = new();
    readonly Dictionary<int, AddedToken> _addedById = new();
    readonly int[] _prefix, _suffix;
    string? _chatTemplate;
    Templates.JinjaTemplate? _compiledTemplate;

    internal PreTrainedTokenizer(ISegmentModel model, List<AddedToken> added, int[] prefix, int[] suffix, JsonElement? config)
    {
        _model = model; _prefix = prefix; _suffix = suffix;
        foreach (var a in added)
        {
            _addedById[a.Id] = a;
            if (a.Content.Length == 0) continue;
            if (!_addedByFirst.TryGetValue(a.Content[0], out var list)) _addedByFirst[a.Content[0]] = list = new List<AddedToken>();
            list.Add(a);
        }
        foreach (var list in _addedByFirst.Values) list.Sort((x, y) => y.Content.Length.CompareTo(x.Content.Length)); // longest first
        if (config is { } c)
        {
            BosToken = TokenField(c, "bos_token");
            EosToken = TokenField(c, "eos_token");
            PadToken = TokenField(c, "pad_token");
            UnkToken = TokenField(c, "unk_token");
            if (c.TryGetProperty("padding_side", out var ps) && ps.GetString() is { } side) PaddingSide = side;
            if (c.TryGetProperty("chat_template", out var ct)) _chatTemplate = DefaultTemplate(ct);
        }
    }

    /// <summary>The beginning-of-sequence token, or null.</summary>
    public string? BosToken { get; }
    /// <summary>The end-of-sequence token, or null.</summary>
    public string? EosToken { get; }
    /// <summary>The padding token, or null (batches then pad with the EOS token's id, or 0).</summary>
    public string? PadToken { get; }
    /// <summary>The unknown token, or null.</summary>
    public string? UnkToken { get; }
    /// <summary>Where batches are padded: <c>right</c> (the default) or <c>left</c> (for generation).</summary>
    public string PaddingSide { get; set; } = "right";

    /// <summary>The id of <see cref="BosToken"/>, or null.</summary>
    public int? BosTokenId => BosToken is null ? null : TokenToId(BosToken);
    /// <summary>The id of <see cref="EosToken"/>, or null.</summary>
    public int? EosTokenId => EosToken is null ? null : TokenToId(EosToken);
    /// <summary>The id padding uses: <see cref="PadToken"/>'s, else <see cref="EosToken"/>'s, else 0.</summary>
    public int PadTokenId => (PadToken is null ? null : TokenToId(PadToken)) ?? EosTokenId ?? 0;
    /// <summary>Vocabulary size with the added tokens.</summary>
    public int VocabSize => _model.VocabSize + CountAddedOutsideVocab();

    int CountAddedOutsideVocab()
    {
        int n = 0;
        foreach (var a in _addedById.Values) if (_model.IdOf(a.Content) is null) n++;
        return n;
    }

    /// <summary>The id of a token (added or in the vocabulary), or null.</summary>
    public int? TokenToId(string token)
    {
        if (token.Length > 0 && _addedByFirst.TryGetValue(token[0], out var list))
            foreach (var a in list) if (a.Content == token) return a.Id;
        return _model.IdOf(token);
    }

    /// <summary>The ids of <paramref name="text"/>, with the post-processor's special tokens when <paramref name="addSpecialTokens"/>.</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        if (addSpecialTokens) ids.AddRange(_prefix);
        int start = 0, i = 0;
        while (i < text.Length)
        {
            var hit = AddedAt(text, i);
            if (hit is null) { i++; continue; }
            int end = i;
            if (hit.LStrip) while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
            if (end > start) _model.Encode(text[start..end], ids);
            ids.Add(hit.Id);
            i += hit.Content.Length;
            if (hit.RStrip) while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            start = i;
        }
        if (start < text.Length) _model.Encode(text[start..], ids);
        if (addSpecialTokens) ids.AddRange(_suffix);
        return [.. ids];
    }

    AddedToken? AddedAt(string text, int i)
    {
        if (!_addedByFirst.TryGetValue(text[i], out var list)) return null;
        foreach (var a in list)
            if (string.CompareOrdinal(text, i, a.Content, 0, a.Content.Length) == 0) return a;
        return null;
    }

    /// <summary>The text of <paramref name="ids"/>; <paramref name="skipSpecialTokens"/> drops special tokens.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var sb = new StringBuilder();
        var run = new List<int>();
        void Flush()
        {
            if (run.Count == 0) return;
            sb.Append(_model.Decode(run));
            run.Clear();
        }
        foreach (int id in ids)
        {
            if (_addedById.TryGetValue(id, out var a))
            {
                Flush();
                if (!(skipSpecialTokens && a.Special)) sb.Append(a.Content);
            }
            else run.Add(id);
        }
        Flush();
        return sb.ToString();
    }

    /// <summary>
    /// A batch of texts as [batch, length] ids and mask, padded on <see cref="PaddingSide"/> to the longest (or to
    /// <paramref name="maxLength"/> with <paramref name="padToMaxLength"/>); <paramref name="truncation"/> cuts each to
    /// <paramref name="maxLength"/> (keeping the first tokens).
    /// </summary>
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, bool truncation = false, int? maxLength = null, bool padToMaxLength = false, bool addSpecialTokens = true)
    {
        if (texts.Count == 0) throw new KilnException("tokenizer", "tokenizer: an empty batch", KilnErrorKind.Argument);
        if ((truncation || padToMaxLength) && maxLength is not > 0)
            throw new KilnException("tokenizer", $"tokenizer: truncation and padding to max_length need a positive max_length, got {maxLength?.ToString() ?? "null"}", KilnErrorKind.Argument);
        var rows = new int[texts.Count][];
        int longest = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            var ids = Encode(texts[r], addSpecialTokens);
            if (truncation && ids.Length > maxLength!.Value) ids = ids[..maxLength.Value];
            rows[r] = ids;
            longest = Math.Max(longest, ids.Length);
        }
        int length = padToMaxLength ? Math.Max(longest, maxLength!.Value) : longest;
        var flat = new long[rows.Length * length];
        var mask = new long[rows.Length * length];
        Array.Fill(flat, PadTokenId);
        bool left = PaddingSide == "left";
        for (int r = 0; r < rows.Length; r++)
        {
            int offset = r * length + (left ? length - rows[r].Length : 0);
            for (int j = 0; j < rows[r].Length; j++) { flat[offset + j] = rows[r][j]; mask[offset + j] = 1; }
        }
        return new BatchEncoding(Tensor.From(flat, rows.Length, length), Tensor.From(mask, rows.Length, length));
    }

    /// <summary>
    /// The Jinja source of the chat template (HF's <c>tokenizer.chat_template</c>): from <c>tokenizer_config.json</c> (the
    /// one named "default" where it holds several) or <c>chat_template.jinja</c>; settable, null when there is none.
    /// </summary>
    public string? ChatTemplate
    {
        get => _chatTemplate;
        set { _chatTemplate = value; _compiledTemplate = null; }
    }

    /// <summary>
    /// The prompt text of <paramref name="messages"/> in the model's chat format: its Jinja chat template rendered as
    /// Hugging Face's <c>apply_chat_template(messages, tokenize=False)</c> renders it, with <c>bos_token</c>,
    /// <c>eos_token</c>, <c>pad_token</c>, <c>unk_token</c>, <c>add_generation_prompt</c> and <paramref name="variables"/>
    /// (for example <c>tools</c>, <c>enable_thinking</c>, <c>date_string</c>). A template's <c>raise_exception</c> and
    /// template errors are <see cref="KilnException"/>s carrying the message.
    /// </summary>
    public string ApplyChatTemplate(IEnumerable<ChatMessage> messages, bool addGenerationPrompt = true, IReadOnlyDictionary<string, object?>? variables = null)
    {
        var list = new List<IReadOnlyDictionary<string, object?>>();
        foreach (var m in messages) list.Add(new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content });
        return ApplyChatTemplate(list, addGenerationPrompt, variables);
    }

    /// <summary>
    /// As <see cref="ApplyChatTemplate(IEnumerable{ChatMessage}, bool, IReadOnlyDictionary{string, object?}?)"/> for
    /// messages with any fields (OpenAI-style <c>tool_calls</c>, <c>reasoning_content</c>, lists of content parts):
    /// values may be strings, numbers, booleans, null, lists, dictionaries or <see cref="JsonElement"/>s.
    /// </summary>
    public string ApplyChatTemplate(IEnumerable<IReadOnlyDictionary<string, object?>> messages, bool addGenerationPrompt = true, IReadOnlyDictionary<string, object?>? variables = null)
    {
        string source = _chatTemplate ?? throw new KilnException("chat_template", "chat_template: this tokenizer has no chat template", KilnErrorKind.State);
        var vars = new Dictionary<string, object?>
        {
            ["messages"] = new List<IReadOnlyDictionary<string, object?>>(messages),
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        foreach (var (name, value) in new[] { ("bos_token", BosToken), ("eos_token", EosToken), ("pad_token", PadToken), ("unk_token", UnkToken) })
            if (value is not null) vars[name] = value;
        if (variables is not null) foreach (var (k, v) in variables) vars[k] = v;
        try
        {
            _compiledTemplate ??= new Templates.JinjaTemplate(source);
            return _compiledTemplate.Render(vars);
        }
        catch (Templates.JinjaException e)
        {
            string where = e.Line > 0 ? $" (template line {e.Line})" : "";
            throw new KilnException("chat_template", $"chat_template: {e.Message}{where}", e, KilnErrorKind.Argument);
        }
    }

    /// <summary>The template text of a config's chat_template: a string, or the "default" entry of a list of named templates.</summary>
    static string? DefaultTemplate(JsonElement ct)
    {
        if (ct.ValueKind == JsonValueKind.String) return ct.GetString();
        if (ct.ValueKind != JsonValueKind.Array) return null;
        foreach (var t in ct.EnumerateArray())
            if (t.ValueKind == JsonValueKind.Object && t.TryGetProperty("name", out var n) && n.GetString() == "default" && t.TryGetProperty("template", out var body))
                return body.GetString();
        return null;
    }

    static string? TokenField(JsonElement c, string name)
    {
        if (!c.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var content) => content.GetString(),
            _ => null,
        };
    }
}
