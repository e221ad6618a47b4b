namespace Kiln.Compilation;

/// <summary>How a [Model]'s <c>Compile()</c> runs its generated kernels (the modes of <c>torch.compile</c>).</summary>
public enum CompileMode
{
    /// <summary>Fused kernels with the GEMM's default blocking.</summary>
    Default,
    /// <summary>
    /// Accepted; on the CPU it runs as <see cref="Default"/>: Kiln's caching allocator already hands the same blocks back
    /// call after call, so there is no per-call allocation left for preallocated buffers to remove. (Its GPU meaning —
    /// capturing the launches once — belongs to the CUDA backend.)
    /// </summary>
    ReduceOverhead,
    /// <summary>
    /// The first call measures GEMM block sizes for each matrix product the model runs and keeps the fastest, in a
    /// table saved on disk per model (<see cref="Autotune.CacheDirectory"/>), so later calls and later processes use them.
    /// </summary>
    MaxAutotune,
}
