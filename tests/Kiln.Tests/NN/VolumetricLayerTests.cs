using System.Linq;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// The 3-D layers and channel rearrangements beyond their golden cases: channel dropout over 1-D and 3-D inputs, float64
/// finite differences through the composed convolution and pools, and bad input that names the function.
/// </summary>
public class VolumetricLayerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ChannelDropoutZeroesWholeChannels(int spatial)
    {
        Module<Tensor, Tensor> layer = spatial == 1 ? new Dropout1d(0.5) : new Dropout3d(0.5);
        int[] shape = spatial == 1 ? [4, 32, 5] : [4, 32, 2, 2, 2];
        using var x = Tensor.Ones(shape);
        using var y = layer.Call(x);
        var values = y.ToArray<float>();
        int block = spatial == 1 ? 5 : 8, kept = 0;
        for (int channel = 0; channel < 4 * 32; channel++)
        {
            var distinct = values.Skip(channel * block).Take(block).Distinct().ToArray();
            Assert.Single(distinct);
            Assert.Contains(distinct[0], new[] { 0f, 2f });
            if (distinct[0] != 0) kept++;
        }
        Assert.InRange(kept / 128.0, 0.32, 0.68);
        layer.Eval();
        using var same = layer.Call(x);
        Assert.Equal(x.ToArray<float>(), same.ToArray<float>());
        Assert.Equal($"Dropout{spatial}d(p=0.5, inplace=False)", layer.ToString());
    }

    static Tensor R(params int[] shape) => Tensor.Randn(shape, DType.Float64, new Generator((ulong)shape.Sum() * 37 + 1)).RequiresGrad_();

    [Fact]
    public void ConvolutionAndPoolsPassFiniteDifferences()
    {
        Assert.True(Autograd.GradCheck(x => F.Conv3d(x[0], x[1], x[2], [1, 2, 1], [1, 0, 1], [2, 1, 1], groups: 2), [R(1, 4, 4, 4, 3), R(2, 2, 2, 2, 2), R(2)]));
        Assert.True(Autograd.GradCheck(x => F.ConvTranspose3d(x[0], x[1], x[2], [2, 1, 2], [1, 0, 0], [1, 0, 1], groups: 2, dilation: [1, 2, 1]), [R(1, 4, 2, 3, 2), R(4, 1, 2, 2, 2), R(2)]));
        Assert.True(Autograd.GradCheck(x => F.MaxPool3d(x[0], [2], [1], [1]) + F.AvgPool3d(x[0], [2], [1], [1], countIncludePad: false), [R(1, 2, 3, 3, 3)]));
        Assert.True(Autograd.GradCheck(x => F.AdaptiveAvgPool3d(x[0], [2, 2, 1]).Sum() + F.AdaptiveMaxPool3d(x[0], [1, 2, 2]).Sum(), [R(1, 2, 3, 4, 3)]));
        Assert.True(Autograd.GradCheck(x => F.LpPool2d(x[0].Abs() + 0.2, 2.5, [2]), [R(1, 2, 4, 4)]));
        Assert.True(Autograd.GradCheck(x => F.ChannelShuffle(x[0], 2) * x[0], [R(2, 4, 3)]));
    }

    [Fact]
    public void BadInputsNameTheFunction()
    {
        Assert.StartsWith("conv3d: expected 5-D weight", Assert.Throws<KilnException>(() => F.Conv3d(Tensor.Ones(1, 2, 3, 3, 3), Tensor.Ones(2, 2, 3, 3))).Message);
        Assert.StartsWith("conv3d: Given groups=1, weight of size [4, 3, 2, 2, 2], expected input [1, 2, 3, 3, 3] to have 3 channels",
            Assert.Throws<KilnException>(() => F.Conv3d(Tensor.Ones(1, 2, 3, 3, 3), Tensor.Ones(4, 3, 2, 2, 2))).Message);
        Assert.StartsWith("conv3d: kernel depth 4", Assert.Throws<KilnException>(() => F.Conv3d(Tensor.Ones(1, 2, 3, 3, 3), Tensor.Ones(4, 2, 4, 2, 2))).Message);
        Assert.StartsWith("conv_transpose3d: expected 5-D weight", Assert.Throws<KilnException>(() => F.ConvTranspose3d(Tensor.Ones(1, 2, 3, 3, 3), Tensor.Ones(2, 2, 3, 3))).Message);
        Assert.StartsWith("conv_transpose3d: Given transposed=1, weight of size [3, 2, 2, 2, 2]", Assert.Throws<KilnException>(() => F.ConvTranspose3d(Tensor.Ones(1, 2, 3, 3, 3), Tensor.Ones(3, 2, 2, 2, 2))).Message);
        Assert.StartsWith("conv_transpose3d: output padding must be smaller than either stride or dilation", Assert.Throws<KilnException>(() => F.ConvTranspose3d(Tensor.Ones(1, 2, 3, 3, 3), Tensor.Ones(2, 2, 2, 2, 2), outputPadding: [1])).Message);
        Assert.StartsWith("conv3d: stride must be one or three numbers", Assert.Throws<KilnException>(() => F.Conv3d(Tensor.Ones(1, 2, 3, 3, 3), Tensor.Ones(4, 2, 2, 2, 2), stride: [1, 2])).Message);
        Assert.StartsWith("max_pool3d: expected 4-D (unbatched) or 5-D (batched) input", Assert.Throws<KilnException>(() => F.MaxPool3d(Tensor.Ones(2, 3, 3), [2])).Message);
        Assert.StartsWith("Softmax2d: expected an input of 3 or 4 dimensions", Assert.Throws<KilnException>(() => new Softmax2d().Call(Tensor.Ones(2, 3))).Message);
        Assert.StartsWith("channel_shuffle: number of channels 5 must be divisible by groups 2", Assert.Throws<KilnException>(() => F.ChannelShuffle(Tensor.Ones(1, 5, 2), 2)).Message);
        Assert.StartsWith("dropout3d: expected 4D or 5D input [N, C, D, H, W]", Assert.Throws<KilnException>(() => F.Dropout3d(Tensor.Ones(2, 3, 4))).Message);
        Assert.StartsWith("dropout1d: expected 2D or 3D input [N, C, L]", Assert.Throws<KilnException>(() => F.Dropout1d(Tensor.Ones(2, 3, 4, 5))).Message);
        Assert.StartsWith("BatchNorm3d:", Assert.Throws<KilnException>(() => new BatchNorm3d(3).Call(Tensor.Ones(2, 3, 4, 4))).Message);
    }

    [Fact]
    public void MaxUnpoolingInvertsThePoolsIndicesAndPrintsLikePyTorch()
    {
        var x = Tensor.Randn([1, 2, 4, 6], DType.Float32, new Generator(3));
        var (pooled, indices) = F.MaxPool2dWithIndices(x, [2]);
        var layer = new MaxUnpool2d(2);
        var restored = layer.Call(pooled, indices);
        // Every maximum is back where it was, every other position is zero.
        var back = restored.Reshape(1, 2, 24).Gather(2, indices.Reshape(1, 2, 6));
        Assert.Equal(pooled.ToArray<float>(), back.ToArray<float>());
        Assert.Equal(pooled.Sum().Item<float>(), restored.Sum().Item<float>(), 4);
        Assert.Equal(2 * (24 - 6), restored.Eq(0).To(DType.Int64).Sum().Item<long>());   // two channels
        Assert.Equal("MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))", layer.ToString());
        Assert.Equal("MaxUnpool1d(kernel_size=(3,), stride=(2,), padding=(0,))", new MaxUnpool1d(3, 2).ToString());
        Assert.StartsWith("max_unpool2d: expected indices of the input's shape", Assert.Throws<KilnException>(() => F.MaxUnpool2d(pooled, indices.Narrow(3, 0, 2), [2])).Message);
    }
}
