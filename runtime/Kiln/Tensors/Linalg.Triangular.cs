using Kiln.Compiler.Shapes;

namespace Kiln;

// Triangular systems, composed of Solve on the triangle read (so the gradient reaches only that triangle, as PyTorch's).
public static partial class Linalg
{
    /// <summary>
    /// X with A·X = B (or X·A = B when <paramref name="left"/> is false) for triangular A (<c>torch.linalg.solve_triangular</c>):
    /// only A's <paramref name="upper"/> or lower triangle is read, its diagonal taken as ones when
    /// <paramref name="unitriangular"/>. A [..., n, n]; B [..., n, k] (left) or [..., k, n].
    /// </summary>
    public static Tensor SolveTriangular(Tensor a, Tensor b, bool upper, bool left = true, bool unitriangular = false)
    {
        const string op = "linalg.solve_triangular";
        int n = CheckSquare(op, a);
        if (b.Dim < 2)
            throw new KilnException(op, $"{op}: B must have at least 2 dimensions, got shape {ShapeText.Format(b.ShapeArray)}", KilnErrorKind.Shape);
        if ((left ? b.Size(-2) : b.Size(-1)) != n)
            throw new KilnException(op, $"{op}: A {ShapeText.Format(a.ShapeArray)} and B {ShapeText.Format(b.ShapeArray)}: B's {(left ? "rows" : "columns")} must be A's {n}", KilnErrorKind.Shape);
        using var triangle = Triangle(a, upper, unitriangular);
        if (left) return Solve(triangle, b);
        // X·A = B  ⇔  Aᵀ·Xᵀ = Bᵀ.
        using var at = triangle.Transpose(-2, -1);
        using var bt = b.Transpose(-2, -1);
        using var xt = Solve(at, bt);
        return xt.Transpose(-2, -1);
    }

    /// <summary>
    /// X with A·X = B for A = L·Lᵀ given its Cholesky factor (<c>torch.cholesky_solve(B, L, upper)</c>); with
    /// <paramref name="upper"/> the factor is U and A = Uᵀ·U. As in PyTorch, the factor's gradient is that of A = L·Lᵀ in
    /// every entry of L (not only its triangle).
    /// </summary>
    public static Tensor CholeskySolve(Tensor b, Tensor factor, bool upper = false)
    {
        using var scope = Tensor.Scope();
        const string op = "cholesky_solve";
        CheckSquare(op, factor);
        using var transposed = factor.Transpose(-2, -1);
        using var a = upper ? transposed.Matmul(factor) : factor.Matmul(transposed);
        return scope.Keep(Solve(a, b));
    }

    /// <summary>A's upper or lower triangle, with ones on the diagonal when <paramref name="unit"/>.</summary>
    static Tensor Triangle(Tensor a, bool upper, bool unit)
    {
        if (!unit) return upper ? a.Triu() : a.Tril();
        using var strict = upper ? a.Triu(1) : a.Tril(-1);
        using var eye = Tensor.Eye(a.Size(-1), null, a.DType);
        using var onDevice = eye.To(a.Device);
        return strict + onDevice;
    }
}
