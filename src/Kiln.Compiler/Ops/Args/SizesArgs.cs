using System.Collections.Generic;

namespace Kiln.Compiler.Ops
{
    /// <summary>A target shape or per-dim counts: view and reshape (one -1 inferred), expand (-1 keeps a size), repeat.</summary>
    public sealed record SizesArgs(IReadOnlyList<int> Sizes) : OpArgs;

    /// <summary>permute: where each output dim comes from.</summary>
    public sealed record PermuteArgs(IReadOnlyList<int> Dims) : OpArgs;
}
