using System;
using System.Diagnostics;
using System.IO;
using Kiln;
using Kiln.Compilation;

/// <summary>
/// What MaxAutotune costs and finds: the first training step of a compiled model in a fresh cache (the products are
/// measured when its forward and backward end), the number of products tuned, how many left the default blocking,
/// and a later step in a new table read back from disk.
/// </summary>
static class AutotuneCost
{
    public static string Table()
    {
        int savedThreads = Threads.Count;
        string saved = Autotune.CacheDirectory, dir = Path.Combine(Path.GetTempPath(), "kiln-bench-tune-" + Guid.NewGuid().ToString("N"));
        Autotune.CacheDirectory = dir;
        try
        {
            var table = "| MaxAutotune, TransformerEncoderLayer d256 h4 seq128 b16 train step | value |\n|---|---:|\n";
            foreach (int threads in new[] { 1, 2 })
            {
                Threads.Count = threads;
                var model = new BenchEncoder();
                var compiled = model.Compile(CompileMode.MaxAutotune);
                var x = Tensor.Randn(new[] { 16, 128, 256 }, generator: new Generator(1));
                double Step()
                {
                    long t0 = Stopwatch.GetTimestamp();
                    using (Tensor.Scope()) { var y = compiled.Forward(x); (y * y).Mean().Backward(); }
                    return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                }
                double first = Step();
                var tuned = Autotune.Table(nameof(BenchEncoder)).Entries;
                int changed = 0;
                foreach (var tiles in tuned.Values) if (tiles != Kiln.Kernels.Gemm.GemmTiles.Default) changed++;
                Autotune.Reset();                     // a new process: the table comes back from disk
                Step();
                double later = Step();
                table += FormattableString.Invariant($"| first step, measuring included ({threads}t) | {first:F0} ms |\n");
                table += FormattableString.Invariant($"| products tuned / left the default blocking ({threads}t) | {tuned.Count} / {changed} |\n");
                table += FormattableString.Invariant($"| a step with the table read back from disk ({threads}t) | {later:F0} ms |\n");
            }
            return table;
        }
        finally
        {
            Autotune.CacheDirectory = saved;
            Threads.Count = savedThreads;
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
