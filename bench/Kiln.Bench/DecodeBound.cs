using System;
using System.Collections.Generic;
using System.Diagnostics;
using Kiln;

/// <summary>
/// One decode step of the benchmark's Llama (fp32 and bf16 weights) against the memory-bandwidth bound (issue 16): each step reads every weight
/// of the products once, so the bound is those bytes over this machine's measured bandwidth on as many threads (a large
/// array copy split over them: bytes read plus bytes written per second). Steps follow a 32-token prefill, so the cache holds 32-48 positions; median and
/// best of 24 steps, because this VM's neighbours make single steps vary by up to 2x.
/// </summary>
static class DecodeBound
{
    public static string Table()
    {
        var table = FormattableString.Invariant($"| decode step | median (ms) | best (ms) | copy bandwidth (GB/s) | bound (ms) | bound / median | bound / best |\n|---|---:|---:|---:|---:|---:|---:|\n");
        string bytesLine = "";
        int saved = Threads.Count;
        try
        {
            foreach (var dtype in new[] { DType.Float32, DType.BFloat16 })
            {
                var (model, _) = LlamaBench.Create(1, new Generator(1), dtype);
                long bytes = 0;
                foreach (var (name, p) in model.NamedParameters())
                    if (name != "model.embed_tokens.weight") bytes += p.Numel * p.DType.SizeOf();   // the embedding is a lookup, not read whole
                bytesLine += FormattableString.Invariant($"{(bytesLine.Length == 0 ? "" : ", ")}{bytes / 1e6:F0} MB in {(dtype == DType.Float32 ? "fp32" : "bf16")}");
                foreach (int threads in new[] { 1, 2 })
                {
                    if (threads > Environment.ProcessorCount) continue;
                    Threads.Count = threads;
                    double bandwidth = CopyBandwidth();
                    double bound = bytes / bandwidth * 1e3;
                    foreach (int batch in new[] { 1, 8 })
                    {
                        var (median, best) = Steps(model, batch);
                        table += FormattableString.Invariant($"| {(dtype == DType.Float32 ? "fp32" : "bf16")} batch {batch} ({threads}t) | {median:F1} | {best:F1} | {bandwidth / 1e9:F1} | {bound:F1} | {bound / median:P0} | {bound / best:P0} |\n");
                    }
                }
            }
        }
        finally { Threads.Count = saved; }
        return table + $"\nWeights read per step: {bytesLine} (all products, the output head included).\n";
    }

    static (double Median, double Best) Steps(Kiln.Transformers.LlamaForCausalLM model, int batch)
    {
        using var noGrad = Autograd.NoGrad();
        var g = new Generator(2);
        var times = new List<double>();
        for (int round = 0; round < 2; round++)
        {
            var cache = model.CreateCache(batch, LlamaBench.PromptTokens + 16);
            model.Forward(Tensor.RandInt(3, LlamaBench.Config.VocabSize, [batch, LlamaBench.PromptTokens], generator: g), cache, null, logitsToKeep: 1);
            var next = Tensor.RandInt(3, LlamaBench.Config.VocabSize, [batch, 1], generator: g);
            for (int s = 0; s < 16; s++)
            {
                var clock = Stopwatch.StartNew();
                model.Forward(next, cache, null, logitsToKeep: 1);
                if (round > 0 || s >= 4) times.Add(clock.Elapsed.TotalMilliseconds);   // the first steps warm up
            }
        }
        times.Sort();
        return (times[times.Count / 2], times[0]);
    }

    /// <summary>Bytes read plus written per second by a 256 MB copy split over <see cref="Threads.Count"/> threads.</summary>
    static double CopyBandwidth()
    {
        var src = new float[64 << 20];
        var dst = new float[64 << 20];
        Array.Fill(src, 1f);
        Array.Fill(dst, 0f);
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            Threads.For(src.Length, 1 << 20, (start, end) => Array.Copy(src, start, dst, start, end - start));
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * src.Length * sizeof(float) / best;
    }
}
