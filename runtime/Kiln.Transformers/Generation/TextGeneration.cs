using System;
using System.Collections.Generic;

namespace Kiln.Transformers;

/// <summary><c>model.generate</c>: prefill in one pass, then one cached step per token.</summary>
public static class TextGeneration
{
    /// <summary>
    /// The rows of <paramref name="inputIds"/> [batch, length] (int64) continued by up to <c>MaxNewTokens</c> tokens each
    /// ([batch, length + generated]). <paramref name="attentionMask"/> marks padding (left-pad batched prompts); the keys
    /// and values live in a cache allocated once for the whole run. Without <paramref name="config"/> the model's
    /// <see cref="ICausalLM.GenerationConfig"/> applies; a config's unset EOS and pad tokens are the model's.
    /// <paramref name="tokenizer"/> is needed for the config's <see cref="GenerationConfig.StopStrings"/>.
    /// </summary>
    public static Tensor Generate(this ICausalLM model, Tensor inputIds, GenerationConfig? config = null, Tensor? attentionMask = null,
        Tokenization.PreTrainedTokenizer? tokenizer = null)
    {
        var run = new GenerationSession(model, inputIds, config ?? model.GenerationConfig, attentionMask, tokenizer);
        while (run.Step()) { }
        return run.Result();
    }

    /// <summary>
    /// Generates from <paramref name="prompt"/> (encoded by <paramref name="tokenizer"/> with its special tokens) and
    /// yields the text as it grows, one piece per token (a piece waits while its token ends inside a UTF-8 character);
    /// stops at an EOS token, a stop string or <c>MaxNewTokens</c>, or when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static async IAsyncEnumerable<string> GenerateStreamAsync(this ICausalLM model, Tokenization.PreTrainedTokenizer tokenizer, string prompt,
        GenerationConfig? config = null, [System.Runtime.CompilerServices.EnumeratorCancellation] System.Threading.CancellationToken cancellationToken = default)
    {
        var ids = tokenizer.Encode(prompt);
        var input = Tensor.From(Array.ConvertAll(ids, i => (long)i), 1, ids.Length);
        var run = new GenerationSession(model, input, config ?? model.GenerationConfig, null, tokenizer);
        string sent = "";
        bool more = true;
        while (more)
        {
            cancellationToken.ThrowIfCancellationRequested();
            more = run.Step();
            string text = tokenizer.Decode(run.Generated(0), skipSpecialTokens: true);
            // Hold back a trailing replacement character: the next token may complete the UTF-8 sequence.
            if (more && text.EndsWith('\uFFFD')) continue;
            if (text.Length > sent.Length && text.StartsWith(sent, StringComparison.Ordinal))
            {
                yield return text[sent.Length..];
                sent = text;
            }
            await System.Threading.Tasks.Task.Yield();
        }
    }

}
