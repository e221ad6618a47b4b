namespace Kiln.Compiler.Ops
{
    /// <summary>How an op relates its inputs to its output; the fusion planner groups ops by it.</summary>
    public enum OpKind
    {
        /// <summary>Pointwise over broadcast inputs.</summary>
        Elementwise,
        /// <summary>Pointwise producing bool.</summary>
        Comparison,
        /// <summary>Reduces dims (optionally keeping them as size 1).</summary>
        Reduction,
        /// <summary>Normalises along one dim, same shape out (softmax, cumsum).</summary>
        AlongDim,
        /// <summary>Reinterprets strides without moving data.</summary>
        View,
        /// <summary>Picks or writes elements by index tensors.</summary>
        Indexing,
        /// <summary>Joins or tiles tensors.</summary>
        Join,
        /// <summary>Matrix products.</summary>
        LinearAlgebra,
    }
}
