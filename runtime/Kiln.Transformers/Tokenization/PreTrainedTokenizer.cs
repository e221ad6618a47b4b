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
    readonly string? _chatTemplate;

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
            if (c.TryGetProperty("chat_template", out var ct) && ct.ValueKind == JsonValueKind.String) _chatTemplate = ct.GetString();
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
    /// The prompt text of <paramref name="messages"/> in the model's chat format, recognised from its template: ChatML
    /// (<c>&lt;|im_start|&gt;</c>: Qwen and others) and Llama 3 (<c>&lt;|start_header_id|&gt;</c>); with
    /// <paramref name="addGenerationPrompt"/> the assistant's header is appended. Other templates (Kiln does not run
    /// Jinja) are an Unsupported error.
    /// </summary>
    public string ApplyChatTemplate(IEnumerable<ChatMessage> messages, bool addGenerationPrompt = true)
    {
        string template = _chatTemplate ?? throw new KilnException("chat_template", "chat_template: this tokenizer has no chat template", KilnErrorKind.State);
        var sb = new StringBuilder();
        if (template.Contains("<|im_start|>", StringComparison.Ordinal))
        {
            foreach (var m in messages) sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
            if (addGenerationPrompt) sb.Append("<|im_start|>assistant\n");
        }
        else if (template.Contains("<|start_header_id|>", StringComparison.Ordinal))
        {
            sb.Append(BosToken);
            foreach (var m in messages)
                sb.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(m.Content.Trim()).Append("<|eot_id|>");
            if (addGenerationPrompt) sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
        else throw new KilnException("chat_template", "chat_template: this template's format is not one Kiln recognises (ChatML, Llama 3)", KilnErrorKind.Unsupported);
        return sb.ToString();
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
