using System;
using System.IO;
using Kiln.IO;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// Generation with the preallocated KV cache: greedy tokens equal the reference's (which recomputes the whole sequence per
/// token, positions from the mask as HF's generate does, the second row left-padded); cached logits equal a full forward;
/// sampling is reproducible by seed, top-k 1 is greedy, and an end-of-sequence token ends its row.
/// </summary>
public class GenerationTests
{
    static string Dir(string name) => Path.Combine(AppContext.BaseDirectory, "golden", "transformers", name);

    [Theory]
    [InlineData("llama_gqa")]
    [InlineData("llama_tied_bias_linear")]
    [InlineData("llama3_rope_sharded")]
    public void GreedyTokensMatchTheReference(string name)
    {
        var expected = SafeTensors.Load(Path.Combine(Dir(name), "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(Dir(name));
        // The reference generates without an EOS token; the folder's config.json names one (2), which Generate would stop at.
        Assert.Equal([2L], model.GenerationConfig.EosTokenIds);
        var output = model.Generate(expected["input_ids"], new GenerationConfig { MaxNewTokens = 6, EosTokenIds = [] }, expected["attention_mask"]);
        Assert.Equal(expected["greedy"].ToArray<long>(), output.ToArray<long>());
    }

    [Fact]
    public void StepsInsideScopesKeepTheCacheAndGiveTheSameLogits()
    {
        // Each step in its own Tensor.Scope(), as a training-style loop would write it: the step's activations go with
        // the scope, the cache's entries (here a growing DynamicKvCache) and the returned logits stay.
        var expected = SafeTensors.Load(Path.Combine(Dir("llama3_rope_sharded"), "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(Dir("llama3_rope_sharded"));
        using var _ = Autograd.NoGrad();
        var ids = expected["input_ids"].Narrow(0, 0, 1);
        var full = model.Forward(ids).ToArray<float>();
        var config = ((LlamaForCausalLM)model).Config;
        int layers = config.NumHiddenLayers, kvHeads = config.NumKeyValueHeads, headDim = config.HeadDim;
        var empty = new Tensor[layers];
        var emptyValues = new Tensor[layers];
        for (int l = 0; l < layers; l++) { empty[l] = Tensor.Zeros([1, kvHeads, 0, headDim]); emptyValues[l] = Tensor.Zeros([1, kvHeads, 0, headDim]); }
        var cache = new DynamicKvCache(empty, emptyValues);
        int vocab = 97;
        for (int t = 0; t < 9; t++)
        {
            float[] step;
            using (Tensor.Scope()) step = model.Forward(ids.Narrow(1, t, 1), cache, logitsToKeep: 1).ToArray<float>();
            for (int v = 0; v < vocab; v++)
                Assert.True(Math.Abs(step[v] - full[t * vocab + v]) <= 1e-4 + 1e-4 * Math.Abs(full[t * vocab + v]), $"step {t} token {v}: {step[v]} vs {full[t * vocab + v]}");
        }
        Assert.Equal(9, cache.Length);
        Assert.All(empty, t => Assert.False(t.IsDisposed));   // the caller's starting entries are the caller's
    }

    [Fact]
    public void CachedStepsGiveTheFullForwardsLogits()
    {
        var expected = SafeTensors.Load(Path.Combine(Dir("llama3_rope_sharded"), "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(Dir("llama3_rope_sharded"));
        using var _ = Autograd.NoGrad();
        var ids = expected["input_ids"].Narrow(0, 0, 1);          // the unpadded row, 9 tokens
        var full = model.Forward(ids).ToArray<float>();
        var cache = model.CreateCache(1, 9);
        var prefill = model.Forward(ids.Narrow(1, 0, 5), cache, logitsToKeep: 5).ToArray<float>();
        int vocab = 97;
        for (int i = 0; i < prefill.Length; i++) Assert.True(Math.Abs(prefill[i] - full[i]) <= 1e-4 + 1e-4 * Math.Abs(full[i]), $"prefill {i}");
        for (int t = 5; t < 9; t++)
        {
            var step = model.Forward(ids.Narrow(1, t, 1), cache, logitsToKeep: 1).ToArray<float>();
            for (int v = 0; v < vocab; v++)
                Assert.True(Math.Abs(step[v] - full[t * vocab + v]) <= 1e-4 + 1e-4 * Math.Abs(full[t * vocab + v]), $"step {t} token {v}: {step[v]} vs {full[t * vocab + v]}");
        }
        Assert.Equal(9, cache.Length);
        // Keeping the last two of a fresh prefill gives the full forward's last two positions.
        var last2 = model.Forward(ids, model.CreateCache(1, 9), logitsToKeep: 2);
        Assert.Equal(new[] { 1, 2, vocab }, last2.Shape.ToArray());
        var l2 = last2.ToArray<float>();
        for (int i = 0; i < l2.Length; i++) Assert.True(Math.Abs(l2[i] - full[7 * vocab + i]) <= 1e-4 + 1e-4 * Math.Abs(full[7 * vocab + i]), $"kept {i}");
        var e = Assert.Throws<KilnException>(() => model.Forward(ids.Narrow(1, 0, 1), cache));
        Assert.Contains("exceed max_length 9", e.Message);
    }

    [Fact]
    public void SamplingIsSeededTopKOneIsGreedyAndEosEndsARow()
    {
        var expected = SafeTensors.Load(Path.Combine(Dir("llama_gqa"), "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(Dir("llama_gqa"));
        var ids = expected["input_ids"].Narrow(0, 0, 1);
        var sample = new GenerationConfig { MaxNewTokens = 12, DoSample = true, Temperature = 1.5, TopP = 0.9, MinP = 0.01, RepetitionPenalty = 1.2, Seed = 7, EosTokenIds = [] };
        var a = model.Generate(ids, sample).ToArray<long>();
        var b = model.Generate(ids, sample).ToArray<long>();
        var c = model.Generate(ids, sample with { Seed = 8 }).ToArray<long>();
        Assert.Equal(a, b);
        Assert.Equal(9 + 12, a.Length);
        Assert.NotEqual(a, c);   // 12 tokens from a flat-ish distribution: another seed differs
        var greedy = model.Generate(ids, new GenerationConfig { MaxNewTokens = 5 }).ToArray<long>();
        var topOne = model.Generate(ids, new GenerationConfig { MaxNewTokens = 5, DoSample = true, TopK = 1, Seed = 3 }).ToArray<long>();
        Assert.Equal(greedy, topOne);
        // The greedy run's last token as EOS: the row stops where that token first appears among the new ones.
        long eos = greedy[^1];
        int first = Array.IndexOf(greedy, eos, 9);
        var stopped = model.Generate(ids, new GenerationConfig { MaxNewTokens = 5, EosTokenIds = [eos] }).ToArray<long>();
        Assert.Equal(greedy[..(first + 1)], stopped);
        Assert.Throws<KilnException>(() => model.Generate(ids, new GenerationConfig { TopP = 0 }));
        // A mask of another shape than the prompt is named as such (it failed filling a tensor of the prompt's shape).
        var wrongMask = Tensor.Ones([ids.Size(0), ids.Size(1) + 2], DType.Int64);
        var e = Assert.Throws<KilnException>(() => model.Generate(ids, new GenerationConfig { MaxNewTokens = 2 }, wrongMask));
        Assert.Contains($"attention_mask [{ids.Size(0)}, {ids.Size(1) + 2}] should match input_ids [{ids.Size(0)}, {ids.Size(1)}]", e.Message);
    }
}
