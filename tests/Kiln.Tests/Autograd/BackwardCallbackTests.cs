using System.Collections.Generic;
using Xunit;

namespace Kiln.Tests.AutogradTests;

/// <summary>
/// The engine's extension points distributed training uses: a post-accumulate hook sees a leaf's gradient after it is
/// final for the pass (accumulated into what was there), and a queued callback runs once, after every hook.
/// </summary>
public class BackwardCallbackTests
{
    [Fact]
    public void PostAccumulateHooksSeeTheFinalGradientAndCallbacksRunLast()
    {
        var w = Tensor.From(new[] { 1f, 2f, 3f }).RequiresGrad_();
        var events = new List<string>();
        using var handle = w.RegisterPostAccumulateGradHook(t => events.Add($"hook {string.Join(",", t.Grad!.ToArray<float>())}"));
        // w is used twice: the hook runs once, with both contributions summed.
        ((w * 2).Sum() + (w * w).Sum()).Backward();
        Assert.Equal(["hook 4,6,8"], events);

        events.Clear();
        Autograd.QueueCallback(() => events.Add("callback"));
        (w * 3).Sum().Backward();
        Assert.Equal(["hook 7,9,11", "callback"], events);   // accumulated onto the previous gradient

        events.Clear();
        handle.Dispose();
        (w * 1).Sum().Backward();
        Assert.Empty(events);   // removed, and the callback ran only once
    }

    [Fact]
    public void AFailedBackwardDropsQueuedCallbacksAndNonLeavesAreRefused()
    {
        var w = Tensor.Ones(2).RequiresGrad_();
        bool ran = false;
        Autograd.QueueCallback(() => ran = true);
        Assert.Throws<KilnException>(() => (w * 2).Backward());   // not a scalar
        (w * 2).Sum().Backward();
        Assert.False(ran);
        Assert.Equal(KilnErrorKind.State, Assert.Throws<KilnException>(() => (w * 2).RegisterPostAccumulateGradHook(_ => { })).Kind);
    }
}
