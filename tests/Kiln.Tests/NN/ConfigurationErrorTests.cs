using System;
using System.Linq;
using Kiln.NN;
using Kiln.Optim;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>Bad configurations and bad inputs fail with a KilnException naming the module or op and the sizes.</summary>
public class ConfigurationErrorTests
{
    static void Throws(Action a, params string[] fragments)
    {
        var e = Assert.Throws<KilnException>(a);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
    }

    [Fact]
    public void NegativeAndInconsistentSizes()
    {
        Throws(() => new Linear(-1, 3), "Linear", "in_features=-1");
        Throws(() => new Conv2d(3, 8, 3, groups: 2), "Conv2d", "in_channels must be divisible by groups");
        Throws(() => new Conv2d(4, 6, 0), "kernel_size must be positive");
        Throws(() => new Conv2d(3, 8, 3, "same", stride: 2), "padding='same' is not supported for strided convolutions");
        Throws(() => new MultiheadAttention(10, 3), "embed_dim must be divisible by num_heads", "embed_dim=10", "num_heads=3");
        Throws(() => new Embedding(10, 4, paddingIdx: 10), "Padding_idx must be within num_embeddings");
        Throws(() => new GroupNorm(4, 6), "num_channels must be divisible by num_groups");
        Throws(() => new LSTM(4, 0), "LSTM", "hidden_size=0");
        Throws(() => new Dropout(1.5), "dropout probability has to be between 0 and 1");
        Throws(() => new TransformerEncoderLayer(8, 2, activation: "swish"), "activation should be relu/gelu");
    }

    [Fact]
    public void MismatchedInputs()
    {
        Throws(() => new Linear(4, 2).Forward(Tensor.Randn(3, 5)), "linear", "[3, 5]", "in_features=4");
        Throws(() => new Conv2d(3, 8, 3).Forward(Tensor.Randn(1, 4, 8, 8)), "conv2d", "expected input[1, 4, 8, 8] to have 3 channels, but got 4 channels instead");
        Throws(() => new Conv2d(3, 8, 5).Forward(Tensor.Randn(1, 3, 3, 3)), "Calculated output size per channel: (0 x 0). Output size is too small");
        Throws(() => new LSTM(4, 3).Forward(Tensor.Randn(5, 2, 6)), "LSTM", "Expected 4, got 6");
        Throws(() => new LSTM(4, 3).Forward(Tensor.Randn(5, 2, 4), (Tensor.Zeros(1, 3, 3), Tensor.Zeros(1, 3, 3))), "Expected hidden size [1, 2, 3], got [1, 3, 3]");
        Throws(() => new LayerNorm(8).Forward(Tensor.Randn(2, 6)), "layer_norm", "normalized_shape=[8]", "[2, 6]");
        Throws(() => new BatchNorm2d(3).Forward(Tensor.Randn(2, 3, 4)), "BatchNorm2d", "expected 4D input (got 3D input)");
        Throws(() => new BatchNorm1d(3).Forward(Tensor.Randn(1, 3)), "Expected more than 1 value per channel when training");
        Throws(() => new Embedding(5, 2).Forward(Tensor.From(new long[] { 1, 5 }, 2)), "embedding", "index out of range", "[0, 5)");
        Throws(() => new MultiheadAttention(8, 2, batchFirst: true).Forward(Tensor.Randn(2, 3, 6), Tensor.Randn(2, 3, 6), Tensor.Randn(2, 3, 6)), "expecting embedding dimension of 8, but got 6");
        Throws(() => F.CrossEntropy(Tensor.Randn(4, 3), Tensor.From(new long[] { 0, 1, 2 }, 3)), "nll_loss", "expected target of shape [4]", "got [3]");
        Throws(() => F.CrossEntropy(Tensor.Randn(2, 3), Tensor.From(new long[] { 0, 3 }, 2)), "Target out of bounds");
        Throws(() => F.MseLoss(Tensor.Randn(4, 3), Tensor.Randn(4, 1)), "mse_loss", "target size ([4, 1])", "input size ([4, 3])");
        Throws(() => F.BinaryCrossEntropy(Tensor.From(1.5f, 0.5f), Tensor.From(1f, 0f)), "all elements of input should be between 0 and 1");
        Throws(() => F.ScaledDotProductAttention(Tensor.Randn(2, 4, 8), Tensor.Randn(2, 5, 6), Tensor.Randn(2, 5, 8)), "sdpa", "query's last dim (8) must equal key's (6)");
        Throws(() => F.ScaledDotProductAttention(Tensor.Randn(1, 6, 4, 8), Tensor.Randn(1, 4, 5, 8), Tensor.Randn(1, 4, 5, 8), enableGqa: true), "sdpa", "6 query, 4 key and 4 value heads", "[1, 6, 4, 8]");
        Throws(() => F.ScaledDotProductAttention(Tensor.Randn(1, 6, 4, 8), Tensor.Randn(1, 2, 5, 8), Tensor.Randn(1, 2, 5, 8)), "sdpa", "[1, 6]", "[1, 2]");
        Throws(() => F.SwiGlu(Tensor.Randn(4, 6), Tensor.Randn(4, 5)), "swiglu", "[4, 6]", "[4, 5]");
        Throws(() => F.Pad(Tensor.Randn(1, 3), [3, 0], "reflect"), "Padding size should be less than the corresponding input dimension");
        Throws(() => F.Interpolate(Tensor.Randn(1, 1, 4, 4), [2, 2], [2.0]), "only one of size or scale_factor");
        Throws(() => F.OneHot(Tensor.From(new long[] { 0, 7 }, 2), 5), "one_hot", "[0, 5)");
    }

    [Fact]
    public void OptimizerOptions()
    {
        var p = Tensor.Zeros(3).RequiresGrad_();
        Throws(() => new SGD([p], lr: -0.1), "SGD", "Invalid lr value: -0.1");
        Throws(() => new SGD([p], lr: 0.1, nesterov: true), "Nesterov momentum requires a momentum and zero dampening");
        Throws(() => new Adam([p], beta1: 1.0), "Adam", "Invalid beta1 parameter");
        Throws(() => new Adam(Array.Empty<Tensor>()), "Adam", "empty parameter list");
        Throws(() => new SGD([new ParamGroup([p]), new ParamGroup([p])]), "more than one parameter group");
        var opt = new AdamW([p]);
        var other = new AdamW([new ParamGroup([p]), new ParamGroup([Tensor.Zeros(2).RequiresGrad_()])]);
        Throws(() => opt.LoadStateDict(other.StateDict()), "AdamW", "different number of parameter groups");
    }
}

public class FusedOpLimitTests
{
    [Fact]
    public void DoubleBackwardThroughAFusedOpIsRefusedNotSilentlyWrong()
    {
        var x = Tensor.Randn(1, 2, 5, 5).RequiresGrad_();
        var conv = new Conv2d(2, 3, 3);
        var y = conv.Forward(x).Pow(2).Sum();
        var e = Assert.Throws<KilnException>(() => Autograd.Grad(y, x, createGraph: true));
        Assert.Contains("conv2d: double backward", e.Message);
        // First-order gradients through the same op are fine.
        var g = Autograd.Grad(conv.Forward(x).Pow(2).Sum(), x);
        Assert.Equal(x.Shape, g.Shape);
    }
}
