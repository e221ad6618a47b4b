using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary>
/// How <see cref="TextGeneration.Generate"/> picks tokens (Hugging Face's <c>GenerationConfig</c>, its defaults): greedy
/// unless <see cref="DoSample"/>; sampling through temperature, top-k, top-p and min-p in that order; a repetition
/// penalty; end-of-sequence tokens; a seed for reproducible sampling.
/// </summary>
public sealed record GenerationConfig
{
    /// <summary>Tokens generated at most per row (<c>max_new_tokens</c>).</summary>
    public int MaxNewTokens { get; init; } = 20;
    /// <summary>Sample from the distribution instead of taking the most likely token (<c>do_sample</c>).</summary>
    public bool DoSample { get; init; }
    /// <summary>Logits divided by this before sampling (<c>temperature</c>).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Keep only the k most likely tokens when sampling; 0 turns it off (<c>top_k</c>).</summary>
    public int TopK { get; init; } = 50;
    /// <summary>Keep the smallest set of most likely tokens whose probability reaches this (<c>top_p</c>); 1 turns it off.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Drop tokens less likely than this fraction of the most likely one (<c>min_p</c>); null turns it off.</summary>
    public double? MinP { get; init; }
    /// <summary>Above 1, makes tokens already in the row less likely (<c>repetition_penalty</c>, CTRL's rule).</summary>
    public double RepetitionPenalty { get; init; } = 1.0;
    /// <summary>Tokens that end a row (<c>eos_token_id</c>); a finished row is filled with <see cref="PadTokenId"/>.</summary>
    public IReadOnlyList<long> EosTokenIds { get; init; } = [];
    /// <summary>Texts that end a row once generated (<c>stop_strings</c>; the row keeps the string); needs the tokenizer.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>The filler after a row ends (<c>pad_token_id</c>).</summary>
    public long PadTokenId { get; init; }
    /// <summary>The sampling seed (the default generator when null).</summary>
    public ulong? Seed { get; init; }

    internal void Validate()
    {
        if (MaxNewTokens < 0) throw new KilnException("generate", $"generate: max_new_tokens must be non-negative, got {MaxNewTokens}", KilnErrorKind.Argument);
        if (!(Temperature > 0)) throw new KilnException("generate", $"generate: temperature must be positive, got {Temperature}", KilnErrorKind.Argument);
        if (TopK < 0) throw new KilnException("generate", $"generate: top_k must be non-negative, got {TopK}", KilnErrorKind.Argument);
        if (!(TopP > 0 && TopP <= 1)) throw new KilnException("generate", $"generate: top_p must be in (0, 1], got {TopP}", KilnErrorKind.Argument);
        if (MinP is { } m && !(m >= 0 && m <= 1)) throw new KilnException("generate", $"generate: min_p must be in [0, 1], got {m}", KilnErrorKind.Argument);
        if (!(RepetitionPenalty > 0)) throw new KilnException("generate", $"generate: repetition_penalty must be positive, got {RepetitionPenalty}", KilnErrorKind.Argument);
    }
}
