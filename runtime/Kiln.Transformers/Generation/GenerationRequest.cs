using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary>
/// One prompt being continued by a <see cref="ContinuousBatcher"/>: its settings, the tokens generated so far, and how
/// it ended. Read it between <see cref="ContinuousBatcher.Step"/> calls.
/// </summary>
public sealed class GenerationRequest
{
    internal readonly List<long> Tokens;
    internal readonly Generator Generator;
    internal PagedSequence? Sequence;
    internal bool Preempted, CancelRequested;

    internal GenerationRequest(long[] prompt, GenerationConfig config)
    {
        Tokens = new List<long>(prompt);
        PromptLength = prompt.Length;
        Config = config;
        Generator = config.Seed is { } seed ? new Generator(seed) : Generator.Default;
    }

    /// <summary>The settings it generates with.</summary>
    public GenerationConfig Config { get; }

    /// <summary>Tokens of the prompt.</summary>
    public int PromptLength { get; }

    /// <summary>Tokens generated so far.</summary>
    public int GeneratedCount => Tokens.Count - PromptLength;

    /// <summary>The tokens generated so far.</summary>
    public int[] Generated()
    {
        var g = new int[GeneratedCount];
        for (int i = 0; i < g.Length; i++) g[i] = (int)Tokens[PromptLength + i];
        return g;
    }

    /// <summary>Whether it has ended (<see cref="FinishReason"/> says why).</summary>
    public bool IsFinished => FinishReason is not null;

    /// <summary>"stop" (an EOS token or stop string), "length" (max_new_tokens reached), "cancelled"; null while it runs.</summary>
    public string? FinishReason { get; internal set; }

    /// <summary>How many times it gave its blocks back to make room for others (its keys and values recomputed on return).</summary>
    public int Preemptions { get; internal set; }
}
