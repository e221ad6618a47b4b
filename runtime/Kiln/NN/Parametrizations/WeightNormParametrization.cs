using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>
/// Weight normalisation (Salimans and Kingma; <c>torch.nn.utils.parametrizations.weight_norm</c>): w = g · v / ‖v‖, the
/// norm over every dim but <see cref="Dim"/> (all dims when it is null or -1, as PyTorch's), from the originals g (<c>original0</c>, the
/// norms) and v (<c>original1</c>, the direction).
/// </summary>
public sealed class WeightNormParametrization(int? dim = 0) : Parametrization
{
    /// <summary>The dim that keeps one norm per slice, or null for one norm of the whole tensor.</summary>
    public int? Dim { get; } = dim;

    /// <inheritdoc/>
    public override Tensor Forward(IReadOnlyList<Tensor> originals)
    {
        if (originals.Count != 2) throw new KilnException("weight_norm", $"weight_norm: expected the two originals g and v, got {originals.Count}", KilnErrorKind.Argument);
        Tensor g = originals[0], v = originals[1];
        using var norm = NormExceptDim(v);
        using var scale = g / norm;
        return v * scale;
    }

    /// <inheritdoc/>
    public override Tensor[] RightInverse(Tensor value) => [NormExceptDim(value), value.To(value.DType)];

    /// <summary>‖v‖ over every dim but <see cref="Dim"/>, kept as size-1 dims (<c>torch.norm_except_dim</c>).</summary>
    Tensor NormExceptDim(Tensor v)
    {
        // -1 means the whole tensor too, as in torch.norm_except_dim (weight_norm's dim=None is passed on as -1).
        if (Dim is not int d || d == -1 || v.Dim == 0) return v.Norm();
        int keep = Compiler.Shapes.ShapeRules.NormalizeDim("weight_norm", d, v.Dim);
        var others = new int[v.Dim - 1];
        for (int i = 0, k = 0; i < v.Dim; i++) if (i != keep) others[k++] = i;
        return others.Length == 0 ? v.Abs() : v.Norm(2, others, keepDim: true);
    }

    /// <inheritdoc/>
    protected override string TypeName => "_WeightNorm";
}
