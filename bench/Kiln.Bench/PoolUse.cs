using System;
using System.Globalization;
using Kiln;
using Kiln.Compilation;
using Kiln.Memory;

/// <summary>
/// What ReduceOverhead's private pool does over ten training steps of the MLP: blocks it reserved, blocks it added
/// after the first step (0 when every later step runs on the reserved blocks), and blocks reused per step.
/// </summary>
static class PoolUse
{
    public static string Table()
    {
        var model = new BenchClassifier();
        var reduce = model.Compile(CompileMode.ReduceOverhead);
        var opt = new Kiln.Optim.Adam(model.Parameters(), lr: 1e-3);
        var g = new Generator(0);
        var x = Tensor.Randn(new[] { 64, 784 }, generator: g);
        var y = Tensor.RandInt(0, 10, new[] { 64 }, generator: g);
        void Step(Func<Tensor, Tensor> forward)
        {
            using var scope = Tensor.Scope();
            opt.ZeroGrad();
            Kiln.NN.F.CrossEntropy(forward(x), y).Backward();
            opt.Step();
        }
        var pool = reduce.Pool!;
        Step(reduce.Forward);
        long afterFirst = pool.Additions, reusesBefore = pool.Reuses;
        for (int i = 0; i < 10; i++) Step(reduce.Forward);
        double reusesPerStep = (pool.Reuses - reusesBefore) / 10.0;
        long added = pool.Additions - afterFirst;
        return "| ReduceOverhead, MLP 784-128-10 b64 train step | value |\n|---|---:|\n"
            + FormattableString.Invariant($"| bytes reserved in the model's pool | {pool.ReservedBytes / 1024.0:F1} KiB |\n")
            + FormattableString.Invariant($"| blocks added to the pool in steps 2-11 | {added} |\n")
            + FormattableString.Invariant($"| pool blocks reused per step | {reusesPerStep:F1} |\n");
    }
}
