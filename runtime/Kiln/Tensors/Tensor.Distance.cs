using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// The <paramref name="p"/>-norm distance between each row of <paramref name="x1"/> [.., P, M] and each row of
    /// <paramref name="x2"/> [.., R, M] (<c>torch.cdist</c>), a [.., P, R] tensor. For p = 2 with more than 25 rows on either
    /// side it takes PyTorch's matrix-product form (‖a‖² + ‖b‖² - 2a·b, floored at 1e-30), as PyTorch does by default; else
    /// the differences directly.
    /// </summary>
    public static Tensor Cdist(Tensor x1, Tensor x2, double p = 2)
    {
        const string op = "cdist";
        if (x1.Dim < 2 || x2.Dim < 2)
            throw new KilnException(op, $"{op}: only supports at least 2D tensors, got: {ShapeText.Format(x1.ShapeArray)} and {ShapeText.Format(x2.ShapeArray)}", KilnErrorKind.Shape);
        if (x1.Size(-1) != x2.Size(-1))
            throw new KilnException(op, $"{op}: X1 and X2 must have the same number of columns. X1: {x1.Size(-1)} X2: {x2.Size(-1)}", KilnErrorKind.Shape);
        if (p < 0) throw new KilnException(op, $"{op}: only supports non-negative p values, got {p}");
        int rows1 = x1.Size(-2), rows2 = x2.Size(-2);
        if (p == 2 && (rows1 > 25 || rows2 > 25)) return EuclideanByProducts(x1, x2);
        using var a = x1.Unsqueeze(-2);   // [.., P, 1, M]
        using var b = x2.Unsqueeze(-3);   // [.., 1, R, M]
        using var difference = a - b;
        return difference.Norm(p, [-1]);
    }

    // PyTorch's _euclidean_dist: [-2a, ‖a‖², 1]·[b, 1, ‖b‖²]ᵀ in one product, floored, square-rooted.
    static Tensor EuclideanByProducts(Tensor x1, Tensor x2)
    {
        using var squares1 = x1 * x1;
        using var norm1 = squares1.Sum(-1, keepDim: true);
        using var squares2 = x2 * x2;
        using var norm2 = squares2.Sum(-1, keepDim: true);
        using var ones1 = OnesLike(norm1);
        using var ones2 = OnesLike(norm2);
        using var scaled = x1 * -2.0;
        using var left = Cat([scaled, norm1, ones1], -1);
        using var right = Cat([x2, ones2, norm2], -1);
        using var rightT = right.Transpose(-2, -1);
        using var product = left.Matmul(rightT);
        using var floored = product.Clamp(min: 1e-30);
        return floored.Sqrt();
    }
}
