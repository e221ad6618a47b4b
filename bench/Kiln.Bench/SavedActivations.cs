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
        var table = "| Model, training mode | eager | compiled | compiled / eager |\n|---|---:|---:|---:|\n";
        var mlp = new BenchClassifier();
        table += Row("MLP 784-128-10 b64", mlp.Forward, mlp.Compile().Forward, new[] { 64, 784 });
        var encoder = new BenchEncoder();
        table += Row("TransformerEncoderLayer d256 h4 seq128 b16", encoder.Forward, encoder.Compile().Forward, new[] { 16, 128, 256 });
        return table;
    }

    static string Row(string name, Func<Tensor, Tensor> eager, Func<Tensor, Tensor> compiled, int[] shape)
    {
        var x = Tensor.Randn(shape, generator: new Generator(0));
        long e = Held(() => eager(x)), c = Held(() => compiled(x));
        return FormattableString.Invariant($"| {name} | {e / 1024.0:F1} KiB | {c / 1024.0:F1} KiB | {(double)c / e:P0} |\n");
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
