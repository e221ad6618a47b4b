namespace Kiln.Compilation;

/// <summary>How a [Model]'s <c>Compile()</c> runs its generated kernels (the modes of <c>torch.compile</c>).</summary>
public enum CompileMode
{
    /// <summary>Fused kernels with the GEMM's default blocking.</summary>
    Default,
    /// <summary>
    /// The fused kernels with preallocated, reused buffers: every tensor the compiled forward and backward create comes
    /// from a memory pool private to the compiled model (<c>Compiled.Pool</c>, a <see cref="Memory.MemoryPool"/>). The first
    /// call reserves the blocks; later calls of the same shapes reuse exactly those blocks without touching the shared
    /// cache, and the memory stays reserved between calls. (On a GPU the mode also captures the launches once.)
    /// </summary>
    ReduceOverhead,
    /// <summary>
    /// The first call measures GEMM block sizes for each matrix product the model runs and keeps the fastest, in a
    /// table saved on disk per model (<see cref="Autotune.CacheDirectory"/>), so later calls and later processes use them.
    /// </summary>
    MaxAutotune,
}
