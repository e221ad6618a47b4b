namespace Kiln.Compilation;

/// <summary>How a [Model]'s <c>Compile()</c> runs its generated kernels (the modes of <c>torch.compile</c>).</summary>
public enum CompileMode
{
    /// <summary>Fused kernels, buffers allocated per call.</summary>
    Default,
    /// <summary>Meant to keep and reuse buffers between calls of the same batch size; not yet different from <see cref="Default"/>.</summary>
    ReduceOverhead,
    /// <summary>Meant to measure tile sizes on the first call and cache them on disk; not yet different from <see cref="Default"/>.</summary>
    MaxAutotune,
}
