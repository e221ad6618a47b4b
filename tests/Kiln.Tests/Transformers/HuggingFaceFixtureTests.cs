using System;
using System.Collections.Generic;
using System.IO;
using Kiln.IO;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// Models written by Hugging Face transformers 5.17 itself (tests/golden/data/hf, from tests/golden/hf_fixtures.py): its
/// config.json layout (<c>rope_parameters</c>, <c>dtype</c>), its shards, its logits, hidden states and greedy
/// <c>generate</c> ids with its KV cache. Kiln loads each folder and matches within fp32 1e-4 at every real token, and
/// generates the same ids — the check of Kiln and of the golden script's reference against the library itself.
/// </summary>
public class HuggingFaceFixtureTests
{
    internal static string Dir(string name) => Path.Combine(AppContext.BaseDirectory, "golden", "hf", name);

    [Theory]
    [InlineData("llama_gqa")]
    [InlineData("llama_tied_bias_linear")]
    [InlineData("llama3_rope_sharded")]
    [InlineData("llama_yarn")]
    [InlineData("llama_dynamic")]
    [InlineData("qwen2")]
    [InlineData("qwen2_tied")]
    [InlineData("gpt2")]
    public void CausalModelsMatchTransformers(string name)
    {
        var expected = SafeTensors.Load(Path.Combine(Dir(name), "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(Dir(name));
        var hidden = new List<Tensor>();
        var mask = expected["attention_mask"];
        using (Autograd.NoGrad())
        {
            // Forward first, then generate, on one instance: the order the fixture ran in (dynamic RoPE keeps state).
            var logits = model.Forward(expected["input_ids"], mask, hidden);
            var real = mask.ToArray<long>();
            LlamaGoldenTests.Close(expected["logits"], logits, real, "logits");
            for (int i = 0; i < hidden.Count; i++) LlamaGoldenTests.Close(expected[$"hidden_states.{i}"], hidden[i], real, $"hidden_states.{i}");
            Assert.True(expected.ContainsKey($"hidden_states.{hidden.Count - 1}") && !expected.ContainsKey($"hidden_states.{hidden.Count}"));
        }
        var generated = model.Generate(expected["input_ids"], new GenerationConfig { MaxNewTokens = 6 }, mask);
        Assert.Equal(expected["greedy"].ToArray<long>(), generated.ToArray<long>());
    }

    [Fact]
    public void FamiliesAreBuiltFromModelType()
    {
        Assert.IsType<Qwen2ForCausalLM>(AutoModelForCausalLM.FromPretrained(Dir("qwen2")));
        var gpt2 = Assert.IsType<GPT2LMHeadModel>(AutoModelForCausalLM.FromPretrained(Dir("gpt2")));
        Assert.Null(gpt2.LmHead);
        Assert.Equal([32, 96], gpt2.Transformer.H[0].Attn.CAttn.Weight.Shape.ToArray());
        var qwen = Qwen2Config.FromFile(Dir("qwen2"));
        Assert.True(qwen.QkvBias && !qwen.OutputBias && qwen.SlidingLayers is null);
    }

    [Fact]
    public void SlidingLayersHideKeysBeyondTheWindow()
    {
        // Qwen2 with every layer sliding over a window of 3: the output at a position depends only on the last 3 tokens
        // (per layer, so 2 layers see 5 back): tokens earlier than that change nothing, the cached path agrees.
        var config = Qwen2Config.FromFile(Dir("qwen2")) with { SlidingWindow = 3, SlidingLayers = [true, true] };
        var model = new Qwen2ForCausalLM(config);
        model.LoadStateDict(((Qwen2ForCausalLM)AutoModelForCausalLM.FromPretrained(Dir("qwen2"))).StateDict());
        model.Eval();
        using var _ = Autograd.NoGrad();
        var a = Tensor.From(new long[] { 5, 6, 7, 8, 9, 10, 11, 12, 13 }, 1, 9);
        var b = Tensor.From(new long[] { 40, 41, 7, 8, 9, 10, 11, 12, 13 }, 1, 9);
        var la = model.Forward(a).Narrow(1, 8, 1).ToArray<float>();
        var lb = model.Forward(b).Narrow(1, 8, 1).ToArray<float>();
        Assert.Equal(la, lb);
        var plain = (Qwen2ForCausalLM)AutoModelForCausalLM.FromPretrained(Dir("qwen2"));
        Assert.NotEqual(la, plain.Forward(a).Narrow(1, 8, 1).ToArray<float>());
        var cache = model.CreateCache(1, 9);
        model.Forward(a.Narrow(1, 0, 5), cache);
        var stepwise = model.Forward(a.Narrow(1, 5, 4), cache).Narrow(1, 3, 1).ToArray<float>();
        for (int i = 0; i < la.Length; i++) Assert.True(Math.Abs(la[i] - stepwise[i]) < 1e-4, $"{i}: {stepwise[i]} vs {la[i]}");
    }

    [Fact]
    public void ScalingKindsAreReadFromTheNewLayout()
    {
        var yarn = LlamaConfig.FromFile(Dir("llama_yarn"));
        Assert.Equal(("yarn", 4.0, (int?)8), (yarn.RopeScaling.RopeType, yarn.RopeScaling.Factor, yarn.RopeScaling.OriginalMaxPositionEmbeddings));
        var rope = new RotaryEmbedding(yarn.HeadDim, yarn.RopeTheta, yarn.RopeScaling, yarn.MaxPositionEmbeddings);
        Assert.Equal(0.1 * Math.Log(4) + 1, rope.AttentionScaling, 12);
        var dynamic = LlamaConfig.FromFile(Dir("llama_dynamic"));
        Assert.Equal("dynamic", dynamic.RopeScaling.RopeType);
        // Dynamic NTK at the configured length is the plain table; longer sequences lower every frequency but the first.
        var plain = RotaryEmbedding.InverseFrequencies(8, 10000, RopeScaling.Default);
        var atMax = RotaryEmbedding.InverseFrequencies(8, 10000, dynamic.RopeScaling, 8, 8);
        var longer = RotaryEmbedding.InverseFrequencies(8, 10000, dynamic.RopeScaling, 8, 20);
        Assert.Equal(plain, atMax);
        Assert.Equal(plain[0], longer[0]);
        for (int i = 1; i < plain.Length; i++) Assert.True(longer[i] < plain[i]);
    }

    [Fact]
    public void BertMatchesTransformersWithPoolingAndMeanPooling()
    {
        var expected = SafeTensors.Load(Path.Combine(Dir("bert"), "expected.safetensors"));
        var model = Assert.IsType<BertModel>(AutoModel.FromPretrained(Dir("bert")));
        var mask = expected["attention_mask"];
        var hidden = new List<Tensor>();
        using var _ = Autograd.NoGrad();
        var (last, pooled) = model.Forward(expected["input_ids"], mask, expected["token_type_ids"], hidden);
        var real = mask.ToArray<long>();
        LlamaGoldenTests.Close(expected["last_hidden_state"], last, real, "last_hidden_state");
        Assert.Equal(3, hidden.Count);
        for (int i = 0; i < hidden.Count; i++) LlamaGoldenTests.Close(expected[$"hidden_states.{i}"], hidden[i], real, $"hidden_states.{i}");
        var allRows = new long[] { 1, 1 };
        LlamaGoldenTests.Close(expected["pooler_output"], pooled!, allRows, "pooler_output");
        LlamaGoldenTests.Close(expected["mean_pooled"], Pooling.Mean(last, mask), allRows, "mean_pooled");
        LlamaGoldenTests.Close(expected["mean_pooled_normalized"], Pooling.Mean(last, mask, normalize: true), allRows, "mean_pooled_normalized");
    }

    [Fact]
    public void ABaseModelLoadsFromACheckpointWithAHead()
    {
        // BertForMaskedLM-style files keep the encoder under "bert." beside the head's "cls.*": AutoModel takes the base.
        string dir = Path.Combine(Path.GetTempPath(), "kiln-bert-prefixed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(Path.Combine(Dir("bert"), "config.json"), Path.Combine(dir, "config.json"));
            var weights = SafeTensors.Load(Path.Combine(Dir("bert"), "model.safetensors"));
            var prefixed = new Dictionary<string, Tensor> { ["cls.predictions.bias"] = Tensor.Zeros(97) };
            foreach (var (k, v) in weights) prefixed["bert." + k] = v;
            SafeTensors.Save(Path.Combine(dir, "model.safetensors"), prefixed);
            var a = (BertModel)AutoModel.FromPretrained(dir);
            var b = (BertModel)AutoModel.FromPretrained(Dir("bert"));
            Assert.Equal(b.Pooler!.Dense.Weight.ToArray<float>(), a.Pooler!.Dense.Weight.ToArray<float>());
            File.WriteAllText(Path.Combine(dir, "config.json"), """{"model_type": "bert", "hidden_size": 30, "num_attention_heads": 4}""");
            Assert.Contains("must be a multiple of num_attention_heads", Assert.Throws<KilnException>(() => AutoModel.FromPretrained(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
