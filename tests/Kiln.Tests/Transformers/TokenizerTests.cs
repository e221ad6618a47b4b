using System;
using System.IO;
using Kiln.Transformers.Tokenization;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>Batches (padding side, truncation, masks), special tokens, chat templates and bad files of <see cref="PreTrainedTokenizer"/>.</summary>
public class TokenizerTests
{
    /// <summary>
    /// Unigram scores are read as HF's tokenizers (serde_json's default parser) reads them: digits as an integer, then one
    /// division by a power of ten — one unit in the last place off the correctly rounded value here, which decided a
    /// Viterbi near-tie differently (the oracle test found it on "Stages": Sta+ges vs St+ages).
    /// </summary>
    [Fact]
    public void UnigramScoresAreReadAsRustsJsonParserReadsThem()
    {
        double Read(string json) => Kiln.Transformers.Tokenization.RustJsonFloat.Read(System.Text.Json.JsonDocument.Parse(json).RootElement);
        Assert.Equal(-7.224226485877384, Read("-7.2242264858773835"));
        Assert.NotEqual(double.Parse("-7.2242264858773835", System.Globalization.CultureInfo.InvariantCulture), Read("-7.2242264858773835"));
        Assert.Equal(-50.0, Read("-50.0"));
        Assert.Equal(0.0, Read("0"));
        Assert.Equal(1.5e-5, Read("1.5e-5"));
        Assert.Equal(-2.5e300, Read("-2.5E+300"));
    }

    [Fact]
    public void BatchesArePaddedOnEitherSideWithMasks()
    {
        var tok = AutoTokenizer.FromPretrained(TokenizerFixtures.Folder("qwen3"));
        Assert.Equal("<|endoftext|>", tok.PadToken);
        int pad = tok.PadTokenId;
        var a = tok.Encode("Hello world, this is longer");
        var b = tok.Encode("Hi");
        var right = tok.EncodeBatch(["Hello world, this is longer", "Hi"]);
        Assert.Equal([2, a.Length], right.InputIds.Shape.ToArray());
        var ids = right.InputIds.ToArray<long>();
        var mask = right.AttentionMask.ToArray<long>();
        Assert.Equal(b[0], ids[a.Length]);
        Assert.Equal(pad, ids[^1]);
        Assert.Equal(0, mask[^1]);
        Assert.Equal(1, mask[a.Length]);
        tok.PaddingSide = "left";
        var left = tok.EncodeBatch(["Hello world, this is longer", "Hi"]);
        Assert.Equal(b[^1], left.InputIds.ToArray<long>()[^1]);
        Assert.Equal(pad, left.InputIds.ToArray<long>()[a.Length]);
        Assert.Equal(0, left.AttentionMask.ToArray<long>()[a.Length]);
        var cut = tok.EncodeBatch(["Hello world, this is longer", "Hi"], truncation: true, maxLength: 2, padToMaxLength: true);
        Assert.Equal([2, 2], cut.InputIds.Shape.ToArray());
        Assert.Throws<KilnException>(() => tok.EncodeBatch(["x"], truncation: true));
    }

    [Fact]
    public void SpecialTokensAreMatchedFirstAndSkippedOnRequest()
    {
        var tok = AutoTokenizer.FromPretrained(TokenizerFixtures.Folder("qwen3"));
        var ids = tok.Encode("<|im_start|>user\nhi<|im_end|>");
        Assert.Equal(tok.TokenToId("<|im_start|>"), ids[0]);
        Assert.Equal(tok.TokenToId("<|im_end|>"), ids[^1]);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>", tok.Decode(ids));
        Assert.Equal("user\nhi", tok.Decode(ids, skipSpecialTokens: true));
        var llama2 = AutoTokenizer.FromPretrained(TokenizerFixtures.Folder("llama2"));
        Assert.Equal(1, llama2.Encode("x")[0]);   // the post-processor's <s>
        Assert.NotEqual(1, llama2.Encode("x", addSpecialTokens: false)[0]);
    }

    [Fact]
    public void ChatTemplatesOfTheCommonFamilies()
    {
        ChatMessage[] chat = [new("system", "Be brief."), new("user", "Hi there ")];
        var qwen = AutoTokenizer.FromPretrained(TokenizerFixtures.Folder("qwen3"));
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there <|im_end|>\n<|im_start|>assistant\n", qwen.ApplyChatTemplate(chat));
        var llama = AutoTokenizer.FromPretrained(TokenizerFixtures.Folder("llama3"));
        // Llama 3.0's template appends the assistant header whatever add_generation_prompt says (Jinja2 renders the same).
        Assert.Equal("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            llama.ApplyChatTemplate(chat, addGenerationPrompt: false));
        var gpt2 = AutoTokenizer.FromPretrained(TokenizerFixtures.Folder("gpt2"));
        Assert.Equal(KilnErrorKind.State, Assert.Throws<KilnException>(() => gpt2.ApplyChatTemplate(chat)).Kind);
    }

    [Fact]
    public void BadFilesAreClearErrors()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kiln-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            Assert.Throws<FileNotFoundException>(() => AutoTokenizer.FromPretrained(dir));
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """{"model": {"type": "WordLevel", "vocab": {"a": 0}}}""");
            var e = Assert.Throws<KilnException>(() => AutoTokenizer.FromPretrained(dir));
            Assert.Contains("model type 'WordLevel' is not supported", e.Message);
            Assert.Contains("tokenizer.json", e.Message);
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """{"added_tokens": []}""");
            Assert.Contains("has no model object", Assert.Throws<KilnException>(() => AutoTokenizer.FromPretrained(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
