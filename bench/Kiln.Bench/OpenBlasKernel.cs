using System;
using System.IO;
using System.Linq;

/// <summary>
/// Which OpenBLAS kernel PyTorch runs with. The machines set OPENBLAS_CORETYPE machine-wide (Haswell: AVX2 kernels even
/// where the CPU has AVX-512), so the bench measures PyTorch twice: as the machine sets it, and with the strongest
/// kernel for this CPU, set for that process only.
/// </summary>
static class OpenBlasKernel
{
    /// <summary>The machine's setting (null: OpenBLAS picks by itself).</summary>
    public static string? Machine => Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is { Length: > 0 } v ? v : null;

    /// <summary>The strongest kernel for this CPU: SkylakeX (AVX-512) where the CPU has avx512f, Haswell (AVX2) where it has avx2.</summary>
    public static string? Best
    {
        get
        {
            string flags;
            try { flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? ""; }
            catch (IOException) { return null; }
            var set = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return set.Contains("avx512f") ? "SkylakeX" : set.Contains("avx2") ? "Haswell" : null;
        }
    }

    /// <summary>How a setting is written in the tables.</summary>
    public static string Describe(string? coretype) => coretype ?? "auto";
}
