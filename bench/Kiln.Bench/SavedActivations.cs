using System;
using System.Globalization;
using Kiln;
using Kiln.Memory;

/// <summary>
/// Memory the autograd graph keeps between forward and backward (saved activations), eager against compiled: the
/// allocator's bytes in use after a training-mode forward whose temporaries have been released, minus before.
/// </summary>
static class SavedActivations
{
    public static string Table()
    {
        var model = new BenchClassifier();
        var compiled = model.Compile();
        var x = Tensor.Randn(new[] { 64, 784 }, generator: new Generator(0));
        long eager = Held(() => model.Forward(x)), fused = Held(() => compiled.Forward(x));
        return "| MLP 784-128-10 b64, training mode | saved between forward and backward |\n|---|---:|\n" +
               FormattableString.Invariant($"| eager | {eager / 1024.0:F1} KiB |\n| compiled | {fused / 1024.0:F1} KiB ({(double)fused / eager:P0} of eager) |\n");
    }

    static long Held(Func<Tensor> forward)
    {
        for (int i = 0; i < 3; i++) GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = CachingAllocator.BytesInUse;
        Tensor y;
        using (Tensor.Scope()) y = forward();          // temporaries go; what the graph saved stays pinned
        long held = CachingAllocator.BytesInUse - before;
        GC.KeepAlive(y);
        return held;
    }
}
