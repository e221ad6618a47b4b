using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Kiln.IO;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// <c>save_pretrained</c> for every causal LM family: the folder holds transformers' own key names (the fixture's
/// key set), its config.json has the fixture's sizes and flags, and it loads back to the same logits.
/// </summary>
public class SavePretrainedTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "kiln-save-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    [Theory]
    [InlineData("gpt2", new[] { "n_embd", "n_head", "n_layer", "n_positions", "vocab_size", "layer_norm_epsilon", "activation_function", "scale_attn_weights", "tie_word_embeddings", "model_type" })]
    [InlineData("llama_gqa", new[] { "hidden_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers", "vocab_size", "rms_norm_eps", "tie_word_embeddings", "model_type" })]
    [InlineData("qwen2_tied", new[] { "hidden_size", "num_key_value_heads", "vocab_size", "tie_word_embeddings", "model_type" })]
    public void AFolderSavedByKilnHasTransformersKeysAndLoadsBack(string name, string[] configKeys)
    {
        var source = HuggingFaceFixtureTests.Dir(name);
        var model = AutoModelForCausalLM.FromPretrained(source);
        model.SavePretrained(_dir);

        AssertSavedLike(source, configKeys);

        var again = AutoModelForCausalLM.FromPretrained(_dir);
        Assert.Equal(model.GetType(), again.GetType());
        var expected = SafeTensors.Load(Path.Combine(source, "expected.safetensors"));
        using var _ = Autograd.NoGrad();
        Assert.Equal(model.Forward(expected["input_ids"], expected["attention_mask"]).ToArray<float>(), again.Forward(expected["input_ids"], expected["attention_mask"]).ToArray<float>());
    }

    [Fact]
    public void ABertEncoderSavedByKilnHasTransformersKeysAndLoadsBack()
    {
        var source = HuggingFaceFixtureTests.Dir("bert");
        var model = Assert.IsType<BertModel>(AutoModel.FromPretrained(source));
        model.SavePretrained(_dir);

        AssertSavedLike(source, ["hidden_size", "num_attention_heads", "num_hidden_layers", "intermediate_size", "vocab_size", "max_position_embeddings",
                                 "type_vocab_size", "layer_norm_eps", "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob", "model_type"]);
        Assert.False(File.Exists(Path.Combine(_dir, "generation_config.json")));

        var again = Assert.IsType<BertModel>(AutoModel.FromPretrained(_dir));
        var expected = SafeTensors.Load(Path.Combine(source, "expected.safetensors"));
        using var _ = Autograd.NoGrad();
        var (last, pooled) = model.Forward(expected["input_ids"], expected["attention_mask"], expected["token_type_ids"]);
        var (last2, pooled2) = again.Forward(expected["input_ids"], expected["attention_mask"], expected["token_type_ids"]);
        Assert.Equal(last.ToArray<float>(), last2.ToArray<float>());
        Assert.Equal(pooled!.ToArray<float>(), pooled2!.ToArray<float>());
    }

    /// <summary>The saved folder has the source's tensor names and the source config's values under <paramref name="configKeys"/>.</summary>
    void AssertSavedLike(string source, string[] configKeys)
    {
        using (var saved = new SafeTensorsFile(Path.Combine(_dir, "model.safetensors")))
        using (var original = new SafeTensorsFile(Path.Combine(source, "model.safetensors")))
            Assert.Equal(original.Names.Order(), saved.Names.Order());
        using var savedConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")));
        using var originalConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(source, "config.json")));
        foreach (var key in configKeys)
        {
            JsonElement want = originalConfig.RootElement.GetProperty(key), got = savedConfig.RootElement.GetProperty(key);
            if (want.ValueKind == JsonValueKind.Number) Assert.Equal(want.GetDouble(), got.GetDouble());
            else Assert.Equal(want.ToString(), got.ToString());
        }
    }
}
