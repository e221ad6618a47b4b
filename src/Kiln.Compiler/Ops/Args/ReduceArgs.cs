using System.Collections.Generic;

namespace Kiln.Compiler.Ops
{
    /// <summary>A reduction's dims (null or empty: all) and whether reduced dims stay as size 1 (sum, mean, prod, logsumexp, all, any, argmax).</summary>
    public record ReduceArgs(IReadOnlyList<int>? Dims, bool KeepDim) : OpArgs
    {
        /// <summary>A reduction over one dim, or over all dims when <paramref name="dim"/> is null.</summary>
        public static ReduceArgs Over(int? dim, bool keepDim) => new ReduceArgs(dim is int d ? new[] { d } : null, keepDim);
    }

    /// <summary>var / std: the reduction and Bessel's correction (1: the unbiased estimate).</summary>
    public sealed record MomentArgs(IReadOnlyList<int>? Dims, bool KeepDim, double Correction) : ReduceArgs(Dims, KeepDim);

    /// <summary>norm: the reduction and the order p (2: Euclidean; 0, 1, ∞ and any other p).</summary>
    public sealed record NormArgs(IReadOnlyList<int>? Dims, bool KeepDim, double P) : ReduceArgs(Dims, KeepDim);
}
