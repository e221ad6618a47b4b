using System;
using Kiln.NN;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// Folding batch norms into the layer before them (torch.nn.utils.fusion) beyond the golden cases (course.json's
/// fuse_*): every convolution kind keeps its geometry and matches the two layers, and training mode is refused.
/// </summary>
public class FusionTests
{
    static void Randomize(BatchNormBase bn, int seed)
    {
        using var _ = Autograd.NoGrad();
        var g = new Generator((ulong)seed);
        int n = bn.NumFeatures;
        bn.RunningMean!.Copy_(Tensor.Randn([n], generator: g));
        bn.RunningVar!.Copy_(Tensor.Rand([n], generator: g) + 0.5);
        bn.Weight!.Copy_(Tensor.Randn([n], generator: g));
        bn.Bias!.Copy_(Tensor.Randn([n], generator: g));
    }

    public static TheoryData<string> Layers => new() { "conv1d", "conv1d_same", "conv2d_groups", "conv3d", "conv_transpose1d", "conv_transpose3d" };

    [Theory]
    [MemberData(nameof(Layers))]
    public void TheFusedLayerComputesBatchNormOfTheConvolution(string name)
    {
        Generator.ManualSeed(3);
        (ConvBase conv, BatchNormBase bn, Tensor x) = name switch
        {
            "conv1d" => ((ConvBase)new Conv1d(3, 4, 3, stride: 2, padding: 1, bias: false), (BatchNormBase)new BatchNorm1d(4), Tensor.Randn(2, 3, 9)),
            "conv1d_same" => (new Conv1d(3, 4, 3, "same", dilation: 2), new BatchNorm1d(4), Tensor.Randn(2, 3, 9)),
            "conv2d_groups" => (new Conv2d(4, 6, 3, padding: 1, groups: 2), new BatchNorm2d(6), Tensor.Randn(2, 4, 5, 5)),
            "conv3d" => (new Conv3d(2, 3, 2, stride: 1), new BatchNorm3d(3), Tensor.Randn(1, 2, 4, 4, 4)),
            "conv_transpose1d" => (new ConvTranspose1d(3, 2, 3, stride: 2, outputPadding: 1), new BatchNorm1d(2), Tensor.Randn(2, 3, 5)),
            _ => (new ConvTranspose3d(2, 3, 2, stride: 2), new BatchNorm3d(3), Tensor.Randn(1, 2, 3, 3, 3)),
        };
        Randomize(bn, 9);
        conv.Eval(); bn.Eval();
        var fused = Fusion.FuseConvBnEval(conv, bn);
        Assert.Equal(conv.GetType(), fused.GetType());
        Assert.Equal(conv.ExtraRepr().Replace(", bias=False", ""), fused.ExtraRepr());
        Assert.False(fused.Training);
        using var _ = Autograd.NoGrad();
        var want = bn.Call(conv.Call(x)).ToArray<float>();
        var got = fused.Call(x).ToArray<float>();
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5 + 1e-5 * Math.Abs(want[i]), $"{name}[{i}]: {got[i]} vs {want[i]}");
    }

    [Fact]
    public void RefusalsNameTheReason()
    {
        var conv = new Conv2d(3, 4, 3);
        var bn = new BatchNorm2d(4);
        var e = Assert.Throws<KilnException>(() => Fusion.FuseConvBnEval(conv, bn));
        Assert.Contains("fuse_conv_bn_eval: Fusion only for eval!", e.Message);
        conv.Eval(); bn.Eval();
        var wide = new BatchNorm2d(5);
        wide.Eval();
        e = Assert.Throws<KilnException>(() => Fusion.FuseConvBnEval(conv, wide));
        Assert.Contains("the batch norm has 5 features but the convolution 4 output channels", e.Message);
        var linear = new Linear(3, 2);
        var untracked = new BatchNorm1d(2, trackRunningStats: false);
        linear.Eval(); untracked.Eval();
        e = Assert.Throws<KilnException>(() => Fusion.FuseLinearBnEval(linear, untracked));
        Assert.Contains("tracks no running statistics", e.Message);
    }
}
