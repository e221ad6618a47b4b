using Kiln.NN;

namespace Kiln.Compilation;

public static partial class CompiledOps
{
    /// <summary>An Embedding lookup, unrecorded (the eager layer's checks on the indices included).</summary>
    public static Tensor Embedding(Embedding layer, Tensor indices)
    {
        using (Autograd.NoGrad()) return F.Embedding(indices, layer.Weight, layer.PaddingIdx);
    }

    /// <summary>The table's gradient: each looked-up row's gradient added into its row (the padding row's left zero).</summary>
    public static Tensor EmbeddingBackward(Embedding layer, Tensor indices, Tensor grad)
    {
        using var noGrad = Autograd.NoGrad();
        using var flat = indices.Reshape(-1);
        using var rows = grad.Reshape(-1, layer.EmbeddingDim);
        var dw = TensorAlgebra.Instance.IndexAddInto(layer.Weight.ShapeArray, layer.Weight, 0, flat, rows);
        if (layer.PaddingIdx is int pad) using (var row = dw.Select(0, pad)) row.Fill_(0);
        return dw;
    }
}
