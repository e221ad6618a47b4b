using System;
using System.IO;
using System.Linq;
using Kiln.IO;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Peft;
using Kiln.Tests.Transformers;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Peft;

/// <summary>Prompt tuning, prefix tuning (with and without projection) and P-tuning against PEFT 0.21's own saved adapters and logits.</summary>
public class PromptLearningTests
{
    static CausalLanguageModel Llama() => (CausalLanguageModel)AutoModelForCausalLM.FromPretrained(HuggingFaceFixtureTests.Dir("llama_gqa"));

    [Theory]
    [InlineData("prompt_tuning_llama", 11)]
    [InlineData("p_tuning_llama", 11)]
    [InlineData("prefix_tuning_llama", 7)]
    [InlineData("prefix_tuning_llama_projection", 7)]
    public void LogitsMatchPeft(string name, int positions)
    {
        var expected = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir(name), "expected.safetensors"));
        var model = PromptLearningModel.FromPretrained(Llama(), HuggingFaceFixtureTests.Dir(name));
        var ids = expected["input_ids"]; var mask = expected["attention_mask"];
        Tensor logits;
        using (Autograd.NoGrad()) logits = model.Forward(ids, mask);
        Assert.Equal(positions, logits.Size(1));
        LlamaGoldenTests.Close(expected["logits"], logits, Enumerable.Repeat(1L, 2 * positions).ToArray(), name);
        Assert.Equal(0, model.GetNbTrainableParameters().Trainable);

        string dir = Path.Combine(Path.GetTempPath(), "kiln-prompt-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.SavePretrained(dir);
            var theirs = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir(name), "adapter_model.safetensors"));
            var ours = SafeTensors.Load(Path.Combine(dir, "adapter_model.safetensors"));
            Assert.Equal(theirs.Keys, ours.Keys);
            Assert.Equal(theirs["prompt_embeddings"].ToArray<float>(), ours["prompt_embeddings"].ToArray<float>());
            var a = PromptLearningConfig.FromFile(Path.Combine(HuggingFaceFixtureTests.Dir(name), "adapter_config.json"));
            var b = PromptLearningConfig.FromFile(Path.Combine(dir, "adapter_config.json"));
            Assert.Equal((a.PeftType, a.NumVirtualTokens, a.TokenDim, a.NumLayers, a.NumAttentionHeads), (b.PeftType, b.NumVirtualTokens, b.TokenDim, b.NumLayers, b.NumAttentionHeads));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(PromptLearningType.PromptTuning, false, PromptEncoderType.Mlp)]
    [InlineData(PromptLearningType.PrefixTuning, false, PromptEncoderType.Mlp)]
    [InlineData(PromptLearningType.PrefixTuning, true, PromptEncoderType.Mlp)]
    [InlineData(PromptLearningType.PTuning, false, PromptEncoderType.Mlp)]
    [InlineData(PromptLearningType.PTuning, false, PromptEncoderType.Lstm)]
    public void VirtualTokensTrainAndTheBaseDoesNot(PromptLearningType type, bool projection, PromptEncoderType encoder)
    {
        Generator.ManualSeed(21);
        var llama = Llama();
        var before = llama.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());
        var model = Kiln.Peft.Peft.GetPeftModel(llama, new PromptLearningConfig
        {
            PeftType = type,
            NumVirtualTokens = 3,
            PrefixProjection = projection,
            EncoderReparameterizationType = encoder,
            EncoderHiddenSize = 16,
        });
        var (trainable, all) = model.GetNbTrainableParameters();
        Assert.True(trainable > 0 && trainable < all);
        var ids = Tensor.RandInt(3, 97, [2, 6]);
        var opt = new AdamW(model.Parameters().Where(p => p.RequiresGrad), lr: 0.05);
        float first = 0, last = 0;
        for (int step = 0; step < 15; step++)
        {
            opt.ZeroGrad();
            var logits = model.InputLogits(ids);
            var loss = F.CrossEntropy(logits.Narrow(1, 0, 5).Reshape(-1, 97), ids.Narrow(1, 1, 5).Reshape(-1));
            loss.Backward();
            opt.Step();
            if (step == 0) first = loss.Item<float>();
            last = loss.Item<float>();
        }
        Assert.True(last < first, $"{type}: loss {first} -> {last}");
        foreach (var (k, v) in llama.StateDict()) Assert.Equal(before[k], v.ToArray<float>());
    }

    [Theory]
    [InlineData("prompt_tuning_llama")]
    [InlineData("prefix_tuning_llama")]
    public void GenerationSeesTheVirtualTokens(string name)
    {
        var model = PromptLearningModel.FromPretrained(Llama(), HuggingFaceFixtureTests.Dir(name));
        var ids = SafeTensors.Load(Path.Combine(HuggingFaceFixtureTests.Dir(name), "expected.safetensors"))["input_ids"];
        var generated = model.Generate(ids, new GenerationConfig { MaxNewTokens = 4 });
        // The same tokens from full forwards without a cache, one argmax at a time.
        var seq = ids;
        using (Autograd.NoGrad())
            for (int t = 0; t < 4; t++)
            {
                var logits = model.Forward(seq);
                var next = logits.Select(1, logits.Size(1) - 1).ArgMax(-1, keepDim: true);
                seq = Tensor.Cat([seq, next], 1);
            }
        Assert.Equal(seq.ToArray<long>(), generated.ToArray<long>());
        var plain = Llama().Generate(ids, new GenerationConfig { MaxNewTokens = 4 });
        Assert.NotEqual(plain.ToArray<long>(), generated.ToArray<long>());
    }

    [Fact]
    public void MismatchedAdaptersAreNamed()
    {
        var gpt2 = (CausalLanguageModel)AutoModelForCausalLM.FromPretrained(HuggingFaceFixtureTests.Dir("gpt2"));
        var e = Assert.Throws<KilnException>(() => PromptLearningModel.FromPretrained(gpt2, HuggingFaceFixtureTests.Dir("prefix_tuning_llama")));
        Assert.Contains("the prefix has 2 layers", e.Message);
    }
}
