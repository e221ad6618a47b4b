using System;
using System.Collections.Generic;
using System.IO;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// The dropouts of transformers' models, read from the config and applied only while training: GPT-2's embd/attn/resid
/// pdrop, BERT's hidden and attention-probability dropout, Llama's and Qwen2's attention_dropout. Probabilities of 1
/// make each one's effect exact (a branch becomes zero), in the eager and the compiled blocks alike; 0.5 shows the
/// kept values scaled by 1/(1-p). They seed the process-wide generator and replay its masks, so they run alone.
/// </summary>
[Collection(DefaultGeneratorCollection.Name)]
public class TransformerDropoutTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-dropout-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    static GPT2LMHeadModel Gpt2(double resid, double embd, double attn)
    {
        Generator.ManualSeed(5);
        return new GPT2LMHeadModel(new GPT2Config { VocabSize = 32, NEmbd = 16, NLayer = 1, NHead = 2, NPositions = 16, NInner = 32, ResidPdrop = resid, EmbdPdrop = embd, AttnPdrop = attn });
    }

    static Tensor Ids() => Tensor.From(new long[] { 1, 5, 9, 3, 7, 2, 4, 8, 6, 0, 11, 13 }, 2, 6);

    [Fact]
    public void Gpt2EmbeddingDropoutZeroesOrScalesEachValue()
    {
        var model = Gpt2(0, 0.5, 0);
        using var _ = Autograd.NoGrad();
        model.Eval();
        var evalStates = new List<Tensor>();
        model.Transformer.Forward(Ids(), null, evalStates);
        var kept = evalStates[0].ToArray<float>();

        model.Train();
        var first = new List<Tensor>();
        Generator.ManualSeed(11);
        model.Transformer.Forward(Ids(), null, first);
        var dropped = first[0].ToArray<float>();
        int zeros = 0;
        for (int i = 0; i < dropped.Length; i++)
        {
            if (dropped[i] == 0) { zeros++; continue; }
            Assert.True(Math.Abs(dropped[i] - 2 * kept[i]) <= 1e-6 * Math.Abs(kept[i]), $"[{i}]: {dropped[i]} is neither 0 nor 2 × {kept[i]}");
        }
        Assert.InRange(zeros, dropped.Length * 3 / 10, dropped.Length * 7 / 10);

        // Seeded: the same masks again.
        var again = new List<Tensor>();
        Generator.ManualSeed(11);
        model.Transformer.Forward(Ids(), null, again);
        Assert.Equal(dropped, again[0].ToArray<float>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gpt2AttentionAndResidualDropoutOfOneLeaveTheirBranchEmpty(bool compiled)
    {
        using var _ = Autograd.NoGrad();
        Generator.ManualSeed(3);
        var x = Tensor.Randn(2, 5, 16);

        // attn_pdrop = 1: every probability dropped, so the attention is c_proj of zeros — its bias on every row.
        var attnOnly = Gpt2(0, 0, 1).Train();
        var attn = ((GPT2LMHeadModel)attnOnly).Transformer.H[0].Attn;
        var output = compiled ? attn.Compile().Forward(x, null) : attn.Forward(x, null);
        var bias = attn.CProj.Bias.ToArray<float>();
        var values = output.ToArray<float>();
        for (int i = 0; i < values.Length; i++) Assert.Equal(bias[i % 16], values[i]);
        // In eval the same layer attends.
        attnOnly.Eval();
        Assert.NotEqual(values, (compiled ? attn.Compile().Forward(x, null) : attn.Forward(x, null)).ToArray<float>());

        // resid_pdrop = 1: the attention and MLP outputs are dropped, so the block passes its input through.
        var residOnly = (GPT2LMHeadModel)Gpt2(1, 0, 0).Train();
        var block = residOnly.Transformer.H[0];
        Assert.Equal(x.ToArray<float>(), (compiled ? block.Compile().Forward(x, null) : block.Forward(x, null)).ToArray<float>());
    }

    [Fact]
    public void BertDropoutsApplyWhileTraining()
    {
        using var _ = Autograd.NoGrad();
        var config = new BertConfig { VocabSize = 30, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 4, IntermediateSize = 32, MaxPositionEmbeddings = 16 };
        Generator.ManualSeed(4);
        var hidden = new BertModel(config with { HiddenDropoutProb = 1, AttentionProbsDropoutProb = 0 });
        var ids = Tensor.From(new long[] { 2, 7, 11, 4, 9, 1 }, 1, 6);
        hidden.Train();
        // The embeddings' dropout after their norm: all zero.
        Assert.All(hidden.Embeddings.Forward(ids, null).ToArray<float>(), v => Assert.Equal(0f, v));
        // Each residual step's dropout: LayerNorm(0 + input) = LayerNorm(input).
        var x = Tensor.Randn(1, 6, 16);
        var step = hidden.Encoder.Layer[0].Attention.Output;
        Assert.Equal(step.LayerNorm.Forward(x).ToArray<float>(), step.Forward(Tensor.Randn(1, 6, 16), x).ToArray<float>());
        hidden.Eval();
        Assert.Contains(hidden.Embeddings.Forward(ids, null).ToArray<float>(), v => v != 0);

        // attention_probs_dropout_prob = 1: the heads' attention is all zero, eager and compiled.
        var probs = new BertModel(config with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 1 });
        probs.Train();
        var self = probs.Encoder.Layer[0].Attention.Self;
        Assert.All(self.Forward(x, null).ToArray<float>(), v => Assert.Equal(0f, v));
        Assert.All(self.Compile().Forward(x, null).ToArray<float>(), v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LlamaAttentionDropoutOfOneIsAnAttentionOfZeros(bool compiled)
    {
        using var _ = Autograd.NoGrad();
        var config = new LlamaConfig { VocabSize = 32, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, AttentionDropout = 1 };
        Generator.ManualSeed(8);
        var dropping = new LlamaForCausalLM(config);
        // The same weights with o_proj zeroed (no bias): its attention adds nothing, as a fully dropped one does.
        var zeroed = new LlamaForCausalLM(config);
        zeroed.LoadStateDict(dropping.StateDict());
        foreach (var layer in zeroed.Model.Layers) layer.SelfAttn.OProj.Weight.Zero_();
        if (compiled) { dropping.Compile(); zeroed.Compile(); }
        var ids = Tensor.From(new long[] { 3, 9, 1, 30, 12, 5, 7, 2 }, 2, 4);
        dropping.Train();
        zeroed.Eval();
        LlamaGoldenTests.Close(zeroed.Forward(ids), dropping.Forward(ids), [1, 1], "logits with attention_dropout 1");
        dropping.Eval();
        Assert.NotEqual(zeroed.Forward(ids).ToArray<float>(), dropping.Forward(ids).ToArray<float>());
    }

    [Fact]
    public void ConfigsCarryTheirDropoutsAndRefuseBadOnes()
    {
        Directory.CreateDirectory(_dir);
        string file = Path.Combine(_dir, "config.json");
        File.WriteAllText(file, """{"model_type": "gpt2", "n_embd": 16, "n_head": 2, "n_layer": 1, "resid_pdrop": 0.2, "embd_pdrop": 0.3, "attn_pdrop": 0.4}""");
        var gpt2 = GPT2Config.FromFile(file);
        Assert.Equal((0.2, 0.3, 0.4), (gpt2.ResidPdrop, gpt2.EmbdPdrop, gpt2.AttnPdrop));
        var json = gpt2.ToJson();
        Assert.Equal((0.2, 0.3, 0.4), ((double)json["resid_pdrop"]!, (double)json["embd_pdrop"]!, (double)json["attn_pdrop"]!));
        var defaults = new GPT2Config();
        Assert.Equal((0.1, 0.1, 0.1), (defaults.ResidPdrop, defaults.EmbdPdrop, defaults.AttnPdrop));   // transformers' defaults
        Assert.Contains("(drop): Dropout(p=0.3, inplace=False)", new GPT2LMHeadModel(gpt2).ToString());

        File.WriteAllText(file, """{"model_type": "llama", "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32, "num_hidden_layers": 1, "attention_dropout": 0.25}""");
        Assert.Equal(0.25, LlamaConfig.FromFile(file).AttentionDropout);
        Assert.Equal(0.25, (double)LlamaConfig.FromFile(file).ToJson()["attention_dropout"]!);
        Assert.Equal(0.0, new LlamaConfig().AttentionDropout);

        File.WriteAllText(file, """{"model_type": "bert", "hidden_dropout_prob": 0.05, "attention_probs_dropout_prob": 0.15}""");
        var bert = BertConfig.FromFile(file);
        Assert.Equal((0.05, 0.15), (bert.HiddenDropoutProb, bert.AttentionProbsDropoutProb));

        foreach (var (text, read, message) in new (string, Func<object>, string)[]
        {
            ("""{"model_type": "gpt2", "attn_pdrop": 1.5}""", () => GPT2Config.FromFile(file), "attn_pdrop must be in [0, 1], got 1.5"),
            ("""{"model_type": "llama", "attention_dropout": -0.1}""", () => LlamaConfig.FromFile(file), "attention_dropout must be in [0, 1], got -0.1"),
            ("""{"model_type": "bert", "hidden_dropout_prob": 2}""", () => BertConfig.FromFile(file), "hidden_dropout_prob must be in [0, 1], got 2"),
        })
        {
            File.WriteAllText(file, text);
            var e = Assert.Throws<KilnException>(read);
            Assert.Contains("config.json", e.Message);
            Assert.Contains(message, e.Message);
        }
    }
}
