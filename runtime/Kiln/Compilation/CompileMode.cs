namespace Kiln.Compilation;

/// <summary>How a [Model]'s <c>Compile()</c> runs its generated kernels (the modes of <c>torch.compile</c>).</summary>
public enum CompileMode
{
    /// <summary>Fused kernels, buffers allocated per call.</summary>
    Default,
    /// <summary>Fused kernels with buffers kept and reused between calls of the same batch size.</summary>
    ReduceOverhead,
    /// <summary>As <see cref="ReduceOverhead"/>; tile sizes are to be measured on first call and cached (not yet: runs as ReduceOverhead).</summary>
    MaxAutotune,
}
