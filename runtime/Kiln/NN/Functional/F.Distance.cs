using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// x divided by its <paramref name="p"/>-norm along <paramref name="dim"/>, the norm held at least
    /// <paramref name="eps"/> (<c>F.normalize</c>): rows of unit length, a zero row stays zero.
    /// </summary>
    public static Tensor Normalize(Tensor x, double p = 2, int dim = 1, double eps = 1e-12)
    {
        using var scope = Tensor.Scope();
        using var norm = x.Norm(p, [dim], keepDim: true);
        using var bounded = norm.Clamp(min: eps);
        return scope.Keep(x / bounded);
    }

    /// <summary>
    /// Cosine similarity along <paramref name="dim"/> of two broadcastable tensors (<c>F.cosine_similarity</c>): each
    /// normalised by its 2-norm held at least <paramref name="eps"/>, then the dot product, as PyTorch computes it.
    /// </summary>
    public static Tensor CosineSimilarity(Tensor x1, Tensor x2, int dim = 1, double eps = 1e-8)
    {
        using var scope = Tensor.Scope();
        const string op = "cosine_similarity";
        var shape = ShapeRules.Broadcast(op, x1.ShapeArray, x2.ShapeArray);
        int d = ShapeRules.NormalizeDim(op, dim, shape.Length);
        using var a = x1.Expand(shape);
        using var b = x2.Expand(shape);
        using var na = Normalize(a, 2, d, eps);
        using var nb = Normalize(b, 2, d, eps);
        using var product = na * nb;
        return scope.Keep(product.Sum(d));
    }

    /// <summary>
    /// The <paramref name="p"/>-norm of x1 - x2 + <paramref name="eps"/> along the last dim (<c>F.pairwise_distance</c>).
    /// </summary>
    public static Tensor PairwiseDistance(Tensor x1, Tensor x2, double p = 2, double eps = 1e-6, bool keepDim = false)
    {
        using var scope = Tensor.Scope();
        using var difference = x1 - x2;
        using var shifted = difference + eps;
        return scope.Keep(shifted.Norm(p, [-1], keepDim));
    }
}
