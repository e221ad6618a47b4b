using System;
using System.IO;
using System.Linq;
using Kiln.IO;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// A folder's generation_config.json is the model's <c>generation_config</c>: Generate without a config uses it, a config
/// that leaves the EOS and pad tokens unset takes the model's (as <c>generate(**kwargs)</c> does), a bad field names the
/// file, and <c>SavePretrained</c> writes it back.
/// </summary>
public class GenerationConfigTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-genconfig-" + Guid.NewGuid().ToString("N"));

    public GenerationConfigTests()
    {
        Directory.CreateDirectory(_dir);
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "golden", "transformers", "llama_gqa")))
            File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
    }

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Fact]
    public void TheFoldersGenerationConfigIsTheModelsDefault()
    {
        var ids = SafeTensors.Load(Path.Combine(_dir, "expected.safetensors"))["input_ids"].Narrow(0, 0, 1);
        var plain = AutoModelForCausalLM.FromPretrained(_dir);
        var greedy = plain.Generate(ids, new GenerationConfig { MaxNewTokens = 5, EosTokenIds = [] }).ToArray<long>();
        long stop = greedy[9];   // the first new token
        File.WriteAllText(Path.Combine(_dir, "generation_config.json"),
            $$"""{"do_sample": false, "max_new_tokens": 3, "temperature": 0.7, "top_k": 5, "eos_token_id": [96, {{stop}}], "pad_token_id": 0, "transformers_version": "5.17.0"}""");
        var model = AutoModelForCausalLM.FromPretrained(_dir);
        var g = model.GenerationConfig;
        Assert.Equal((3, 0.7, 5, 0L), (g.MaxNewTokens, g.Temperature, g.TopK, g.PadTokenId!.Value));
        Assert.Equal([96L, stop], g.EosTokenIds);

        // No config: the folder's (three new tokens at most; it stops at the first, an EOS token).
        var byDefault = model.Generate(ids).ToArray<long>();
        Assert.Equal(greedy[..10], byDefault);
        // A config of its own that names no EOS token: the model's still ends the row, as generate(max_new_tokens=5) would.
        Assert.Equal(greedy[..10], model.Generate(ids, new GenerationConfig { MaxNewTokens = 5 }).ToArray<long>());
        // An empty list turns EOS off; `with` keeps the model's other fields.
        Assert.Equal(greedy[..12], model.Generate(ids, model.GenerationConfig with { EosTokenIds = [] }).ToArray<long>());

        // A batch: the row that ends early is padded with the model's pad token.
        var two = SafeTensors.Load(Path.Combine(_dir, "expected.safetensors"));
        var batch = model.Generate(two["input_ids"], new GenerationConfig { MaxNewTokens = 4 }, two["attention_mask"]);
        var first = batch.Narrow(0, 0, 1).ToArray<long>();
        if (first.Length > 10) Assert.Equal([stop, .. Enumerable.Repeat(0L, first.Length - 10)], first[9..]);
        else Assert.Equal(greedy[..10], first);

        model.SavePretrained(Path.Combine(_dir, "saved"));
        var back = GenerationConfig.FromPretrained(Path.Combine(_dir, "saved"));
        Assert.Equal((g.MaxNewTokens, g.DoSample, g.Temperature, g.TopK, g.TopP, g.PadTokenId), (back.MaxNewTokens, back.DoSample, back.Temperature, back.TopK, back.TopP, back.PadTokenId));
        Assert.Equal(g.EosTokenIds, back.EosTokenIds);
    }

    [Fact]
    public void MaxLengthBoundsPromptAndNewTokensTogether()
    {
        var ids = SafeTensors.Load(Path.Combine(_dir, "expected.safetensors"))["input_ids"].Narrow(0, 0, 1);
        int prompt = ids.Size(1);
        var model = AutoModelForCausalLM.FromPretrained(_dir);
        var greedy = model.Generate(ids, new GenerationConfig { MaxNewTokens = 6, EosTokenIds = [] }).ToArray<long>();

        // A folder that names max_length alone (Llama 2's layout): prompt + new tokens up to it.
        File.WriteAllText(Path.Combine(_dir, "generation_config.json"), $$"""{"max_length": {{prompt + 4}}, "eos_token_id": []}""");
        var loaded = AutoModelForCausalLM.FromPretrained(_dir);
        Assert.Equal(prompt + 4, loaded.GenerationConfig.MaxLength);
        Assert.Equal(greedy[..(prompt + 4)], loaded.Generate(ids).ToArray<long>());
        // Both bounds: the tighter one; a prompt already past max_length still gets one token, as in transformers.
        Assert.Equal(greedy[..(prompt + 2)], loaded.Generate(ids, loaded.GenerationConfig with { MaxNewTokens = 2 }).ToArray<long>());
        Assert.Equal(greedy[..(prompt + 1)], loaded.Generate(ids, loaded.GenerationConfig with { MaxLength = prompt - 3 }).ToArray<long>());

        // The continuous batcher applies the same bound per request.
        var batcher = new ContinuousBatcher(loaded, loaded.CreatePagedCache(16, 4));
        var request = batcher.Add(ids.ToArray<long>(), loaded.GenerationConfig with { MaxLength = prompt + 3 });
        while (batcher.HasWork) batcher.Step();
        Assert.Equal(greedy[prompt..(prompt + 3)], request.Generated().Select(t => (long)t).ToArray());
        Assert.Equal("length", request.FinishReason);

        // It travels through SavePretrained, and a non-positive one names the op.
        loaded.SavePretrained(Path.Combine(_dir, "saved"));
        Assert.Equal(prompt + 4, GenerationConfig.FromPretrained(Path.Combine(_dir, "saved")).MaxLength);
        var e = Assert.Throws<KilnException>(() => model.Generate(ids, new GenerationConfig { MaxLength = 0 }));
        Assert.Contains("max_length must be positive, got 0", e.Message);
    }

    [Theory]
    [InlineData("""{"eos_token_id": "2"}""", "eos_token_id should be a token id or a list of them")]
    [InlineData("""{"top_p": 0}""", "top_p must be in (0, 1]")]
    [InlineData("""{"do_sample": 1}""", "do_sample should be true or false")]
    public void ABadFieldNamesTheFile(string json, string message)
    {
        File.WriteAllText(Path.Combine(_dir, "generation_config.json"), json);
        var e = Assert.Throws<KilnException>(() => AutoModelForCausalLM.FromPretrained(_dir));
        Assert.Contains("generation_config.json", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void WithoutTheFileTheConfigsTokenIdsApply()
    {
        var g = GenerationConfig.FromPretrained(_dir);
        Assert.Equal([2L], g.EosTokenIds);
        var d = new GenerationConfig();
        Assert.Equal((d.MaxNewTokens, d.DoSample, d.Temperature, d.TopK, d.TopP, d.MinP, d.RepetitionPenalty), (g.MaxNewTokens, g.DoSample, g.Temperature, g.TopK, g.TopP, g.MinP, g.RepetitionPenalty));
    }
}
