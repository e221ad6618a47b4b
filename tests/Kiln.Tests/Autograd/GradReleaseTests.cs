using Kiln;
using Kiln.NN;
using Kiln.Optim;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// ZeroGrad (and setting .Grad) hands a gradient's memory back at once when only Kiln touched it, and never a gradient
/// that user code read or a hook saw.
/// </summary>
public class GradReleaseTests
{
    static (Linear Layer, SGD Opt) Step()
    {
        var layer = new Linear(4, 3);
        var opt = new SGD(layer.Parameters(), lr: 0.1);
        layer.Forward(Tensor.Randn(5, 4)).Pow(2).Sum().Backward();
        opt.Step();
        return (layer, opt);
    }

    [Fact]
    public void ZeroGradReleasesAGradientNobodyRead()
    {
        var (layer, opt) = Step();
        var grad = layer.Weight.GradInternal!;
        opt.ZeroGrad();
        Assert.True(grad.IsDisposed);
        Assert.Null(layer.Weight.Grad);
    }

    [Fact]
    public void AGradientTheUserReadSurvivesZeroGrad()
    {
        var (layer, opt) = Step();
        var grad = layer.Weight.Grad!;
        var values = grad.ToArray<float>();
        layer.ZeroGrad();
        Assert.False(grad.IsDisposed);
        Assert.Equal(values, grad.ToArray<float>());
    }

    [Fact]
    public void AGradientAHookSawSurvivesAndAccumulationKeepsWorking()
    {
        var x = Tensor.Randn(3).RequiresGrad_();
        Tensor? seen = null;
        using var hook = x.RegisterHook(g => { seen = g; return null; });
        (x * 2).Sum().Backward();
        x.Grad = null;
        Assert.False(seen!.IsDisposed);

        // Two backwards accumulate (the first gradient is taken over, the second added), then the setter releases.
        var y = Tensor.Randn(3).RequiresGrad_();
        (y * 2).Sum().Backward();
        (y * 3).Sum().Backward();
        var sum = y.GradInternal!;
        Assert.Equal(new[] { 5f, 5f, 5f }, sum.ToArray<float>());
        y.Grad = null;
        Assert.True(sum.IsDisposed);
    }
}

/// <summary>Big host blocks start on a 2 MiB boundary where Linux takes huge-page advice, so every 2 MiB can be one page.</summary>
public class HugePageTests
{
    [Fact]
    public unsafe void BigBlocksAreHugePageAligned()
    {
        using var big = Tensor.Ones(3 << 20);      // 12 MiB of float32
        using var small = Tensor.Ones(1000);
        Assert.Equal(3 << 20, (int)big.Sum().Item<float>());
        if (Kiln.Memory.HugePages.Available) Assert.Equal(0, (long)big.DataPointer % Kiln.Memory.HugePages.Alignment);
        Assert.Equal(0, (long)small.DataPointer % 64);
    }
}
