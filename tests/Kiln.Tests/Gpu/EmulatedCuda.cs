using System;
using Xunit;

namespace Kiln.Tests.Gpu;

/// <summary>
/// Runs <c>cuda:0</c> on ILGPU's CPU accelerator for one test (<see cref="Kiln.Cuda.Emulate"/>), so every CUDA kernel
/// executes here without a GPU. The CUDA test classes share one collection: the switch is process-wide.
/// </summary>
public sealed class EmulatedCuda : IDisposable
{
    /// <summary>The xunit collection of every test that touches CUDA devices.</summary>
    public const string Collection = "cuda";

    readonly bool _was;

    public EmulatedCuda()
    {
        _was = Kiln.Cuda.Emulate;
        Kiln.Cuda.Emulate = true;
    }

    public void Dispose() => Kiln.Cuda.Emulate = _was;

    /// <summary>
    /// Asserts a CUDA result equals the CPU's within <paramref name="rel"/> relative or <paramref name="atol"/> absolute
    /// (sums that cancel to near zero are judged by the absolute bound).
    /// </summary>
    public static void Same(Tensor cpu, Tensor gpu, double rel = 1e-5, string? what = null, double atol = 0)
    {
        Assert.True(gpu.IsCuda, $"{what}: expected a CUDA tensor, got {gpu.Device}");
        Assert.Equal(cpu.DType, gpu.DType);
        Assert.Equal(cpu.Shape, gpu.Shape);
        using var back = gpu.Cpu();
        using var c64 = cpu.To(DType.Float64);
        using var g64 = back.To(DType.Float64);
        var e = c64.ToArray<double>();
        var a = g64.ToArray<double>();
        for (int i = 0; i < e.Length; i++)
        {
            if (double.IsNaN(e[i])) { Assert.True(double.IsNaN(a[i]), $"{what}[{i}]: expected NaN, got {a[i]}"); continue; }
            double tol = rel * Math.Max(Math.Abs(e[i]), 1e-3);
            Assert.True(Math.Abs(a[i] - e[i]) <= Math.Max(tol, atol) || e[i] == a[i], $"{what}[{i}]: CPU {e[i]:R}, CUDA {a[i]:R}");
        }
    }
}

[CollectionDefinition(EmulatedCuda.Collection, DisableParallelization = true)]
public sealed class CudaCollection;
