using System;
using System.Collections.Generic;
using System.IO;
using Kiln.IO;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// Tiny Llama-family models in Hugging Face's folder layout (tests/golden/make_transformers_golden.py: a reference written
/// from HF's modeling semantics) loaded by <see cref="AutoModelForCausalLM"/>: logits and every hidden state within fp32
/// 1e-4, for GQA, tied embeddings with biases and linear RoPE scaling, and llama3 RoPE in the rope_parameters layout from
/// sharded weights. The second batch row is left-padded: its padded positions are compared only where HF defines them.
/// </summary>
public class LlamaGoldenTests
{
    static string Dir(string name) => Path.Combine(AppContext.BaseDirectory, "golden", "transformers", name);

    [Theory]
    [InlineData("llama_gqa")]
    [InlineData("llama_tied_bias_linear")]
    [InlineData("llama3_rope_sharded")]
    public void LogitsAndHiddenStatesMatchTheReference(string name)
    {
        var expected = SafeTensors.Load(Path.Combine(Dir(name), "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(Dir(name));
        var hidden = new List<Tensor>();
        Tensor logits;
        using (Autograd.NoGrad()) logits = model.Forward(expected["input_ids"], expected["attention_mask"], hidden);
        var mask = expected["attention_mask"].ToArray<long>();
        Close(expected["logits"], logits, mask, "logits");
        Assert.Equal(3, hidden.Count);
        for (int i = 0; i < hidden.Count; i++) Close(expected[$"hidden_states.{i}"], hidden[i], mask, $"hidden_states.{i}");
    }

    [Fact]
    public void WithoutAMaskTheCausalPathGivesTheSameLogits()
    {
        var expected = SafeTensors.Load(Path.Combine(Dir("llama_gqa"), "expected.safetensors"));
        var model = AutoModelForCausalLM.FromPretrained(Dir("llama_gqa"));
        using var _ = Autograd.NoGrad();
        // The first row has no padding: causal attention alone must give its logits.
        var ids = expected["input_ids"].Narrow(0, 0, 1);
        var logits = model.Forward(ids);
        var allReal = new long[ids.Size(1)];
        Array.Fill(allReal, 1L);
        Close(expected["logits"].Narrow(0, 0, 1), logits, allReal, "logits (causal)");
    }

    [Fact]
    public void TiedModelsHaveNoHeadAndConfigsAreRead()
    {
        var model = (LlamaForCausalLM)AutoModelForCausalLM.FromPretrained(Dir("llama_tied_bias_linear"));
        Assert.Null(model.LmHead);
        Assert.DoesNotContain("lm_head.weight", model.StateDict().Keys);
        Assert.Equal("linear", model.Config.RopeScaling.RopeType);
        Assert.True(model.Config.AttentionBias && model.Config.MlpBias);
        var llama3 = LlamaConfig.FromFile(Dir("llama3_rope_sharded"));
        Assert.Equal(500000.0, llama3.RopeTheta);
        Assert.Equal(16, llama3.HeadDim);
        Assert.Equal(("llama3", 8.0, 16), (llama3.RopeScaling.RopeType, llama3.RopeScaling.Factor, llama3.RopeScaling.OriginalMaxPositionEmbeddings));
    }

    [Fact]
    public void MissingAndUnexpectedKeysAreListed()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kiln-llama-keys-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(Path.Combine(Dir("llama_gqa"), "config.json"), Path.Combine(dir, "config.json"));
            var weights = SafeTensors.Load(Path.Combine(Dir("llama_gqa"), "model.safetensors"));
            weights.Remove("model.layers.1.mlp.up_proj.weight");
            weights["model.layers.1.mlp.extra.weight"] = Tensor.Zeros(2);
            SafeTensors.Save(Path.Combine(dir, "model.safetensors"), weights);
            var e = Assert.Throws<KilnException>(() => AutoModelForCausalLM.FromPretrained(dir));
            Assert.Contains(dir, e.Message);
            Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
            Assert.Contains("model.layers.1.mlp.extra.weight", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadConfigsAreClearErrors()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kiln-llama-config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string cfg = Path.Combine(dir, "config.json");
            File.WriteAllText(cfg, """{"model_type": "llama", "num_attention_heads": 6, "num_key_value_heads": 4, "hidden_size": 48}""");
            var e = Assert.Throws<KilnException>(() => LlamaConfig.FromFile(dir));
            Assert.Contains("num_attention_heads (6) must be a multiple of num_key_value_heads (4)", e.Message);
            File.WriteAllText(cfg, """{"model_type": "llama", "rope_scaling": {"rope_type": "longrope", "factor": 4}}""");
            Assert.Contains("rope type 'longrope' is not supported", Assert.Throws<KilnException>(() => LlamaConfig.FromFile(dir)).Message);
            File.WriteAllText(cfg, """{"model_type": "llama", "hidden_size": "big"}""");
            Assert.Contains("hidden_size should be an integer", Assert.Throws<KilnException>(() => LlamaConfig.FromFile(dir)).Message);
            File.WriteAllText(cfg, """{"model_type": "gpt_neox"}""");
            Assert.Contains("model_type 'gpt_neox' is not supported", Assert.Throws<KilnException>(() => AutoModelForCausalLM.FromPretrained(dir)).Message);
            File.Delete(cfg);
            Assert.Throws<FileNotFoundException>(() => AutoModelForCausalLM.FromPretrained(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ConfigsBuiltInCodeDefaultAsTransformersAndAreCheckedByTheModel()
    {
        // head_dim and num_key_value_heads follow the sizes given, as LlamaConfig(hidden_size=64, num_attention_heads=4) does.
        var c = new LlamaConfig { HiddenSize = 64, NumAttentionHeads = 4 };
        Assert.Equal((16, 4), (c.HeadDim, c.NumKeyValueHeads));
        Assert.Equal((32, 4), ((c with { HiddenSize = 128 }).HeadDim, (c with { HiddenSize = 128 }).NumKeyValueHeads));
        var set = c with { HeadDim = 8, NumKeyValueHeads = 2 };
        Assert.Equal((8, 2), ((set with { HiddenSize = 128 }).HeadDim, (set with { HiddenSize = 128 }).NumKeyValueHeads));
        Assert.Equal((128, 32), (new LlamaConfig().HeadDim, new LlamaConfig().NumKeyValueHeads));
        // A model built from a config that cannot work says so when it is built, naming the config's type.
        var llama = Assert.Throws<KilnException>(() => new LlamaForCausalLM(new LlamaConfig { VocabSize = 32, HiddenSize = 48, IntermediateSize = 32, NumHiddenLayers = 1, NumAttentionHeads = 6, NumKeyValueHeads = 4 }));
        Assert.Equal("LlamaConfig: num_attention_heads (6) must be a multiple of num_key_value_heads (4)", llama.Message);
        Assert.Equal(KilnErrorKind.Argument, llama.Kind);
        var gpt2 = Assert.Throws<KilnException>(() => new GPT2LMHeadModel(new GPT2Config { VocabSize = 32, NEmbd = 16, NLayer = 1, NHead = 3, NPositions = 8 }));
        Assert.Equal("GPT2Config: n_embd (16) must be a multiple of n_head (3)", gpt2.Message);
        var bert = Assert.Throws<KilnException>(() => new BertModel(new BertConfig { VocabSize = 30, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 3, IntermediateSize = 32 }));
        Assert.Equal("BertConfig: hidden_size (16) must be a multiple of num_attention_heads (3)", bert.Message);
        Assert.Contains("BertConfig: num_hidden_layers must be positive, got 0",
            Assert.Throws<KilnException>(() => new BertModel(new BertConfig { VocabSize = 30, HiddenSize = 16, NumHiddenLayers = 0, NumAttentionHeads = 4, IntermediateSize = 32 })).Message);
    }

    /// <summary>|want - got| ≤ 1e-4 + 1e-4·|want| at every position whose token is real (mask 1); [batch, length, ...] tensors.</summary>
    internal static void Close(Tensor want, Tensor got, long[] mask, string what)
    {
        Assert.Equal(want.Shape, got.Shape);
        var a = want.ToArray<float>();
        var b = got.ToArray<float>();
        int per = a.Length / mask.Length;
        for (int i = 0; i < a.Length; i++)
        {
            if (mask[i / per] == 0) continue;
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4 + 1e-4 * Math.Abs(a[i]), $"{what}[{i}]: {b[i]} vs {a[i]}");
        }
    }
}
