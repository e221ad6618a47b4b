using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Transformers;
using Kiln.Transformers.Tokenization;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// Streaming and stop strings over the tiny Llama fixture with a word-level tokenizer of its 97 ids ("t3".."t96"):
/// the streamed pieces add up to the decoded greedy output, a stop string ends the row at the token that completes it,
/// cancellation ends the stream.
/// </summary>
public class StreamingTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-stream-" + Guid.NewGuid().ToString("N"));
    readonly ICausalLM _model = AutoModelForCausalLM.FromPretrained(Path.Combine(AppContext.BaseDirectory, "golden", "transformers", "llama_gqa"));
    readonly PreTrainedTokenizer _tok;

    public StreamingTests()
    {
        Directory.CreateDirectory(_dir);
        var vocab = string.Join(", ", new[] { "\"[UNK]\": 0", "\"[CLS]\": 1", "\"[SEP]\": 2" }.Concat(Enumerable.Range(3, 94).Select(i => $"\"t{i}\": {i}")));
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), "{\"added_tokens\": [], \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": {" + vocab + "}}}");
        _tok = AutoTokenizer.FromPretrained(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task StreamedPiecesAddUpToTheGreedyText()
    {
        const string prompt = "t5 t17 t40 t8";
        var ids = _tok.Encode(prompt);
        Assert.Equal([5, 17, 40, 8], ids);
        var config = new GenerationConfig { MaxNewTokens = 7 };
        var greedy = _model.Generate(Tensor.From(ids.Select(i => (long)i).ToArray(), 1, 4), config).ToArray<long>();
        string want = _tok.Decode(greedy[4..].Select(i => (int)i));
        var pieces = new List<string>();
        await foreach (var piece in _model.GenerateStreamAsync(_tok, prompt, config)) pieces.Add(piece);
        Assert.Equal(7, pieces.Count);
        Assert.Equal(want, string.Concat(pieces));
    }

    [Fact]
    public void AStopStringEndsTheRowWhereItIsCompleted()
    {
        var ids = Tensor.From(new long[] { 5, 17, 40, 8 }, 1, 4);
        var all = _model.Generate(ids, new GenerationConfig { MaxNewTokens = 8 }).ToArray<long>();
        // The text of the 2nd and 3rd new tokens as the stop string: generation ends after the 3rd.
        string stop = _tok.Decode([(int)all[5], (int)all[6]]);
        var stopped = _model.Generate(ids, new GenerationConfig { MaxNewTokens = 8, StopStrings = [stop] }, tokenizer: _tok).ToArray<long>();
        Assert.Equal(all[..7], stopped);
        var e = Assert.Throws<KilnException>(() => _model.Generate(ids, new GenerationConfig { StopStrings = [stop] }));
        Assert.Contains("stop_strings need the tokenizer", e.Message);
    }

    [Fact]
    public async Task CancellationEndsTheStream()
    {
        using var cts = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in _model.GenerateStreamAsync(_tok, "t5 t6", new GenerationConfig { MaxNewTokens = 20 }, cts.Token))
                if (++seen == 2) cts.Cancel();
        });
        Assert.Equal(2, seen);
    }
}
