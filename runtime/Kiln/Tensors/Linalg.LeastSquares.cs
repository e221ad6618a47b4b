using System;
using Kiln.Compiler.Shapes;

namespace Kiln;

/// <summary>
/// What <see cref="Linalg.Lstsq"/> returns (<c>torch.linalg.lstsq</c>'s named tuple). Which parts are filled follows
/// the LAPACK driver named, as in PyTorch: <c>Residuals</c> when m &gt; n, every matrix has full rank and the driver is not
/// gelsy; <c>Rank</c> except for gels; <c>SingularValues</c> for gelsd and gelss; the others are empty tensors.
/// </summary>
/// <param name="Solution">X minimising ‖A·X - B‖ (the minimum-norm one where A is rank deficient) [..., n, k].</param>
/// <param name="Residuals">Σ of the squared residuals of each column [..., k].</param>
/// <param name="Rank">The effective rank of each A (int64) [...].</param>
/// <param name="SingularValues">A's singular values, descending [..., min(m, n)].</param>
public readonly record struct LstsqResult(Tensor Solution, Tensor Residuals, Tensor Rank, Tensor SingularValues);

// Least squares and the quantities read off the singular values: rank and condition number.
public static partial class Linalg
{
    /// <summary>The singular values of each matrix, descending (<c>torch.linalg.svdvals</c>); differentiable where distinct and non-zero.</summary>
    public static Tensor Svdvals(Tensor a)
    {
        CheckMatrix("linalg.svdvals", a);
        var (u, s, vh) = Svd(a);
        u.Dispose();
        vh.Dispose();
        return s;
    }

    /// <summary>
    /// The numerical rank of each matrix (<c>torch.linalg.matrix_rank</c>): singular values above max(atol, rtol·σ_max),
    /// rtol defaulting to the dtype's eps times max(m, n) when neither tolerance is given (int64).
    /// </summary>
    public static Tensor MatrixRank(Tensor a, double? atol = null, double? rtol = null)
    {
        const string op = "linalg.matrix_rank";
        CheckMatrix(op, a);
        using var noGrad = Autograd.NoGrad();
        using var s = Svdvals(a);
        return RankOf(s, atol ?? 0, rtol ?? (atol is null ? a.DType.Eps() * Math.Max(a.Size(-2), a.Size(-1)) : 0));
    }

    /// <summary>
    /// The condition number of each matrix in the 2-norm (<c>torch.linalg.cond</c> with p None or 2: σ_max/σ_min; -2:
    /// σ_min/σ_max, any shape), or for a square matrix in the norm <paramref name="p"/> (1, -1, ∞, -∞): ‖A‖·‖A⁻¹‖.
    /// </summary>
    public static Tensor Cond(Tensor a, double? p = null)
    {
        const string op = "linalg.cond";
        CheckMatrix(op, a);
        if (p is null or 2 or -2)
        {
            using var s = Svdvals(a);
            using var largest = s.Narrow(-1, 0, 1);
            using var smallest = s.Narrow(-1, s.Size(-1) - 1, 1);
            using var ratio = p == -2 ? smallest / largest : largest / smallest;
            return ratio.Squeeze(-1);
        }
        CheckSquare(op, a);
        using var norm = MatrixNorm(a, p!.Value);
        using var inverse = Inv(a);
        using var inverseNorm = MatrixNorm(inverse, p.Value);
        return norm * inverseNorm;
    }

    /// <summary>
    /// The condition number in the Frobenius ("fro") or nuclear ("nuc") norm of each square matrix, ‖A‖·‖A⁻¹‖
    /// (<c>torch.linalg.cond</c> with a string p).
    /// </summary>
    public static Tensor Cond(Tensor a, string p)
    {
        const string op = "linalg.cond";
        CheckSquare(op, a);
        using var norm = MatrixNorm(a, p);
        using var inverse = Inv(a);
        using var inverseNorm = MatrixNorm(inverse, p);
        return norm * inverseNorm;
    }

    /// <summary>
    /// The least-squares solution of A·X = B (<c>torch.linalg.lstsq</c>): A [..., m, n], B [..., m, k] or [..., m]; the
    /// minimum-norm solution through the pseudo-inverse, singular values at or below <paramref name="rcond"/>·σ_max
    /// dropped (default eps·max(m, n)). <paramref name="driver"/> ("gelsy" by default, "gels", "gelsd", "gelss") picks
    /// which extra results are filled, as LAPACK's drivers do in PyTorch; the solution is differentiable.
    /// </summary>
    public static LstsqResult Lstsq(Tensor a, Tensor b, double? rcond = null, string? driver = null)
    {
        const string op = "linalg.lstsq";
        CheckMatrix(op, a);
        driver ??= "gelsy";
        if (driver is not ("gels" or "gelsy" or "gelsd" or "gelss"))
            throw new KilnException(op, $"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), got {driver}", KilnErrorKind.Unsupported);
        if (b.Dim != a.Dim && b.Dim != a.Dim - 1)
            throw new KilnException(op, $"{op}: B {ShapeText.Format(b.ShapeArray)} must have A's {a.Dim} dims or one fewer (one right-hand side), A is {ShapeText.Format(a.ShapeArray)}", KilnErrorKind.Shape);
        bool vector = b.Dim == a.Dim - 1;
        int m = a.Size(-2), n = a.Size(-1);
        using var rhs = vector ? b.Unsqueeze(-1) : b.To(b.DType);
        if (rhs.Size(-2) != m)
            throw new KilnException(op, $"{op}: A {ShapeText.Format(a.ShapeArray)} and B {ShapeText.Format(b.ShapeArray)}: B's rows must be A's {m}", KilnErrorKind.Shape);
        if (!ShapeRules.SameShape(a.ShapeArray[..^2], rhs.ShapeArray[..^2]))
            throw new KilnException(op, $"{op}: the batch dims of A {ShapeText.Format(a.ShapeArray)} and B {ShapeText.Format(b.ShapeArray)} differ", KilnErrorKind.Shape);

        double cut = rcond ?? a.DType.Eps() * Math.Max(m, n);
        // One SVD gives the pseudo-inverse (differentiable) and the singular values the rank and gelsd/gelss report.
        var (u, s, vh) = Svd(a);
        using (u)
        using (s)
        using (vh)
        {
            using var pinv = PinvOf(u, s, vh, cut);
            using var solved = pinv.Matmul(rhs);
            var solution = vector ? solved.Squeeze(-1) : solved.To(solved.DType);
            using var rank = RankOf(s, 0, cut);
            var rankOut = driver != "gels" ? rank.To(DType.Int64) : Tensor.Empty([0], DType.Int64, a.Device);
            var values = driver is "gelsd" or "gelss" ? s.Detach() : Tensor.Empty([0], a.DType, a.Device);
            var residuals = Tensor.Empty([0], a.DType, a.Device);
            if (m > n && driver != "gelsy" && FullRank(rank, Math.Min(m, n)))
            {
                using var fitted = a.Matmul(solved);
                using var error = fitted - rhs;
                using var squared = error.Square();
                residuals.Dispose();
                residuals = squared.Sum(-2);
                if (vector) { using var column = residuals; residuals = column.Squeeze(-1); }
            }
            return new LstsqResult(solution, residuals, rankOut, values);
        }
    }

    /// <summary>The count of singular values above max(atol, rtol·σ_max) in each row of <paramref name="s"/> (int64).</summary>
    static Tensor RankOf(Tensor s, double atol, double rtol)
    {
        if (s.Size(-1) == 0) return Tensor.Zeros(s.ShapeArray[..^1], DType.Int64, s.Device);
        using var largest = s.Narrow(-1, 0, 1);
        using var relative = largest * rtol;
        using var tolerance = relative.ClampMin(atol);
        using var above = s.Gt(tolerance);
        return above.Sum([-1], dtype: DType.Int64);
    }

    static bool FullRank(Tensor rank, int full)
    {
        foreach (long r in rank.ToArray<long>())
            if (r != full) return false;
        return true;
    }
}
