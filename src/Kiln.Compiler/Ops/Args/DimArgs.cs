namespace Kiln.Compiler.Ops
{
    /// <summary>One dim (softmax, log_softmax, cumsum, cat, stack, unsqueeze, index_select, gather, scatter).</summary>
    public sealed record DimArgs(int Dim) : OpArgs;

    /// <summary>max/min along a dim with the index of the extreme: the dim and whether it stays as size 1.</summary>
    public sealed record DimReduceArgs(int Dim, bool KeepDim) : OpArgs;

    /// <summary>transpose: the two dims swapped.</summary>
    public sealed record TransposeArgs(int Dim0, int Dim1) : OpArgs;

    /// <summary>select: the dim removed and the index taken along it.</summary>
    public sealed record SelectArgs(int Dim, long Index) : OpArgs;

    /// <summary>narrow: the dim, the first index and the number of indices kept.</summary>
    public sealed record NarrowArgs(int Dim, long Start, int Length) : OpArgs;

    /// <summary>A strided slice (slice, and pad_slice, its adjoint): the dim, the first index and the step.</summary>
    public sealed record SliceArgs(int Dim, long Start, int Step) : OpArgs;

    /// <summary>tril / triu: the diagonal kept (0 the main one, positive above it).</summary>
    public sealed record DiagonalArgs(int Diagonal) : OpArgs;
}
