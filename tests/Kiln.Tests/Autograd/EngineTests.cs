using System;
using System.Threading.Tasks;
using Kiln;
using Kiln.Memory;
using Xunit;

namespace Kiln.Tests.AutogradTests;

[Collection("Allocator")]
public class EngineTests
{
    static Tensor Leaf(params float[] v) => Tensor.From(v).RequiresGrad_();

    [Fact]
    public void LeafGradientsAccumulateAcrossBackwardCalls()
    {
        var x = Leaf(1, 2, 3);
        (x * x).Sum().Backward();
        (x * 3.0).Sum().Backward();
        Assert.Equal(new float[] { 5, 7, 9 }, x.Grad!.ToArray<float>());
        Assert.True(x.IsLeaf);
        var y = x * 2.0;
        Assert.False(y.IsLeaf);
        Assert.Equal("MulBackward", y.GradFn!.Name);
    }

    [Fact]
    public void LeavesNeverShareAGradientTensor()
    {
        var a = Leaf(1, 2);
        var b = Leaf(3, 4);
        var seed = Tensor.From(1f, 1f);
        (a + b).Backward(seed);               // add hands the same gradient object to both inputs
        using (Autograd.NoGrad()) a.Grad!.Mul_(5);
        Assert.Equal(new float[] { 1, 1 }, b.Grad!.ToArray<float>());
        Assert.Equal(new float[] { 1, 1 }, seed.ToArray<float>());
        Assert.NotSame(a.Grad, b.Grad);
    }

    [Fact]
    public void RetainGradKeepsANonLeafGradient()
    {
        var x = Leaf(1, 2);
        var h = (x * 3.0).RetainGrad();
        (h * h).Sum().Backward();
        Assert.Equal(new float[] { 6, 12 }, h.Grad!.ToArray<float>());
        Assert.Equal(new float[] { 18, 36 }, x.Grad!.ToArray<float>());
    }

    [Fact]
    public void HooksSeeAndCanReplaceGradients()
    {
        var x = Leaf(1, 2);
        var h = x * 2.0;
        Tensor? seen = null;
        h.RegisterHook(g => { seen = g; return g * 10.0; });
        using (x.RegisterHook(g => g + 1.0)) h.Sum().Backward();
        Assert.Equal(new float[] { 1, 1 }, seen!.ToArray<float>());
        Assert.Equal(new float[] { 21, 21 }, x.Grad!.ToArray<float>());
    }

    [Fact]
    public void DetachAndNoGradRecordNothing()
    {
        var x = Leaf(1, 2);
        Assert.False(x.Detach().RequiresGrad);
        using (Autograd.NoGrad())
        {
            Assert.False(Autograd.IsGradEnabled);
            Assert.False((x * 2.0).RequiresGrad);
            using (Autograd.EnableGrad()) Assert.True((x * 2.0).RequiresGrad);
            Assert.False((x * 2.0).RequiresGrad);
        }
        using (Autograd.InferenceMode()) Assert.Null((x + 1.0).GradFn);
        Assert.True(Autograd.IsGradEnabled);
    }

    [Fact]
    public void GradModeIsThreadLocal()
    {
        using (Autograd.NoGrad())
        {
            bool other = false;
            var t = new System.Threading.Thread(() => other = Autograd.IsGradEnabled);
            t.Start();
            t.Join();
            Assert.True(other);
            Assert.False(Autograd.IsGradEnabled);
        }
    }

    [Fact]
    public void InPlaceModificationOfASavedTensorIsDetected()
    {
        var x = Leaf(1, 2, 3);
        var y = x.Exp();
        y.Add_(1);          // exp saved its output; it is now at version 1
        var e = Assert.Throws<KilnException>(() => y.Sum().Backward());
        Assert.StartsWith("one of the variables needed for gradient computation has been modified by an inplace operation: [Float32 [3]]", e.Message);
        Assert.Contains("is at version 1; expected version 0 instead", e.Message);
    }

    [Fact]
    public void InPlaceOpsOnNonLeavesAreDifferentiated()
    {
        var x = Leaf(0.1f, 0.2f, -0.3f);
        var y = x * 2.0;
        y.Mul_(3);
        y.Sigmoid_();
        y.Sum().Backward();
        var s = (x * 6.0).Sigmoid().ToArray<float>();
        var got = x.Grad!.ToArray<float>();
        for (int i = 0; i < 3; i++) Assert.Equal(6 * s[i] * (1 - s[i]), got[i], 1e-6);
    }

    [Fact]
    public void InPlaceOnALeafThatRequiresGradIsRefused()
    {
        var x = Leaf(1, 2);
        var e = Assert.Throws<KilnException>(() => x.Add_(1));
        Assert.Equal("add_: a leaf Variable that requires grad is being used in an in-place operation.", e.Message);
        using (Autograd.NoGrad()) x.Add_(1); // optimizers update leaves this way
        Assert.Equal(new float[] { 2, 3 }, x.ToArray<float>());
    }

    [Fact]
    public void BackwardTwiceThroughAFreedGraphFails()
    {
        var x = Leaf(1, 2);
        var y = (x.Exp() * 2.0).Sum();
        y.Backward();
        var e = Assert.Throws<KilnException>(() => y.Backward());
        Assert.StartsWith("Trying to backward through the graph a second time", e.Message);
        var z = (x.Exp() * 2.0).Sum();
        z.Backward(null, retainGraph: true);
        z.Backward();                       // retained: works, gradients add up
    }

    [Fact]
    public void NonScalarBackwardNeedsAGradient()
    {
        var x = Leaf(1, 2);
        var e = Assert.Throws<KilnException>(() => (x * 2.0).Backward());
        Assert.StartsWith("grad can be implicitly created only for scalar outputs", e.Message);
        (x * 2.0).Backward(Tensor.From(1f, 10f));
        Assert.Equal(new float[] { 2, 20 }, x.Grad!.ToArray<float>());
    }

    [Fact]
    public void TensorsWithoutGradAreRejected()
    {
        var a = Tensor.From(1f, 2f);
        Assert.Equal("element 0 of tensors does not require grad and does not have a grad_fn",
            Assert.Throws<KilnException>(() => (a * 2.0).Sum().Backward()).Message);
        var x = Leaf(1, 2);
        Assert.Contains("does not require grad", Assert.Throws<KilnException>(() => Autograd.Grad((x * 2.0).Sum(), a)).Message);
        Assert.Contains("appears to not have been used in the graph",
            Assert.Throws<KilnException>(() => Autograd.Grad(new[] { (x * 2.0).Sum() }, new[] { x, Leaf(3) })).Message);
        Assert.Contains("floating point", Assert.Throws<KilnException>(() => Tensor.Arange(3).RequiresGrad_()).Message);
    }

    [Fact]
    public void AutogradGradLeavesDotGradAlone()
    {
        var x = Leaf(1, 2);
        var g = Autograd.Grad((x * x).Sum(), x);
        Assert.Equal(new float[] { 2, 4 }, g.ToArray<float>());
        Assert.Null(x.Grad);
    }

    [Fact]
    public void DetectAnomalyNamesTheBackwardAndForwardOp()
    {
        var x = Leaf(0, 1);
        var y = x.Sqrt().Sum();     // d sqrt / dx at 0 is inf
        using (Autograd.DetectAnomaly())
        {
            var e = Assert.Throws<KilnException>(() => y.Backward());
            Assert.Contains("Function 'SqrtBackward' returned inf values in its 0th output", e.Message);
            Assert.Contains("'sqrt'", e.Message);
        }
    }

    [Fact]
    public void DeepGraphsNeedNoRecursion()
    {
        var x = Leaf(1);
        var y = x;
        for (int i = 0; i < 10_000; i++) y = y * 1.0001;
        y.Sum().Backward();
        Assert.Equal(Math.Pow(1.0001, 10_000), x.Grad!.Item<float>(), 2);
    }

    [Fact]
    public void BackwardReleasesEverySavedTensor()
    {
        GC.Collect(); GC.WaitForPendingFinalizers();
        var x = Tensor.Randn(new[] { 1000 }, generator: new Generator(1)).RequiresGrad_();
        long before = CachingAllocator.BytesInUse;
        var y = x;
        for (int i = 0; i < 1000; i++) y = (y * 1.001).Sin();   // every op saves a 4 KB tensor
        var loss = y.Sum();
        y = null!;
        GC.Collect(); GC.WaitForPendingFinalizers();
        long held = CachingAllocator.BytesInUse - before;
        Assert.True(held > 1000 * 4000, $"the graph should hold its saved tensors, holds {held} bytes");
        loss.Backward();
        GC.Collect(); GC.WaitForPendingFinalizers();
        long after = CachingAllocator.BytesInUse - before;
        // What remains: x.Grad and the loss (a few KB), not 2000 saved activations.
        Assert.True(after < 64 * 1024, $"after backward {after} bytes are still held");
        Assert.True(loss.GradFn!.IsReleased);
    }
}

public class AutogradPrintingTests
{
    [Fact]
    public void PrintsGradFnLikePyTorch()
    {
        var x = Tensor.From(1f, 2f).RequiresGrad_();
        Assert.Equal("tensor([1., 2.], requires_grad=True)", x.ToString());
        Assert.Equal("tensor(3., grad_fn=<SumBackward>)", x.Sum().ToString());
        Assert.Equal("tensor([2., 4.], grad_fn=<MulBackward>)", (x * 2.0).ToString());
    }
}
