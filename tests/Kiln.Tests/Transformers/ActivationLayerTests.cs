using System.Linq;
using Kiln.NN;
using Kiln.Transformers;
using Xunit;

namespace Kiln.Tests.Transformers;

/// <summary>
/// <see cref="ActivationLayer"/>: Hugging Face's activation names as a parameterless layer (BERT's
/// <c>intermediate_act_fn</c>, where transformers' named modules have it too), the same function as
/// <see cref="Activations.Apply"/>, and an unknown name refused with the supported ones listed.
/// </summary>
public class ActivationLayerTests
{
    [Theory]
    [InlineData("gelu")]
    [InlineData("gelu_new")]
    [InlineData("relu")]
    [InlineData("silu")]
    [InlineData("tanh")]
    public void ItAppliesTheNamedActivation(string name)
    {
        var x = Tensor.From(new[] { -3f, -1.5f, -0.25f, 0f, 0.5f, 1f, 2.5f, 4f });
        float[] expected = name switch
        {
            "gelu" => F.Gelu(x).ToArray<float>(),
            "gelu_new" => F.Gelu(x, "tanh").ToArray<float>(),
            "relu" => [0, 0, 0, 0, 0.5f, 1, 2.5f, 4],
            "silu" => x.ToArray<float>().Select(v => v / (1 + System.MathF.Exp(-v))).ToArray(),
            _ => x.ToArray<float>().Select(System.MathF.Tanh).ToArray(),
        };
        var layer = new ActivationLayer(name);
        Assert.Equal(name, layer.Name);
        Assert.Empty(layer.Parameters());
        var y = layer.Forward(x).ToArray<float>();
        for (int i = 0; i < y.Length; i++) Assert.True(System.Math.Abs(y[i] - expected[i]) <= 1e-6 + 1e-5 * System.Math.Abs(expected[i]), $"{name}[{i}]: {y[i]} vs {expected[i]}");
    }

    [Fact]
    public void AnUnknownNameIsRefusedWithTheSupportedOnes()
    {
        var e = Assert.Throws<KilnException>(() => new ActivationLayer("swiglu"));
        Assert.Contains("activation 'swiglu' is not supported", e.Message);
        Assert.Contains("gelu_new", e.Message);
    }

    [Fact]
    public void BertsIntermediateHasItUnderTransformersName()
    {
        var model = new BertModel(new BertConfig { VocabSize = 30, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 4, IntermediateSize = 32, MaxPositionEmbeddings = 16, HiddenAct = "gelu_new" });
        var (name, module) = Assert.Single(model.NamedModules(), m => m.Name.EndsWith("intermediate_act_fn", System.StringComparison.Ordinal));
        Assert.Equal("encoder.layer.0.intermediate.intermediate_act_fn", name);
        Assert.Equal("gelu_new", Assert.IsType<ActivationLayer>(module).Name);
        Assert.DoesNotContain(model.StateDict().Keys, k => k.Contains("act_fn"));
    }
}
