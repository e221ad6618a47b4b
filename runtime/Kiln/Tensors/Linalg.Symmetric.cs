using System;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.LinearAlgebra;

namespace Kiln;

// Factorizations of symmetric matrices (Cholesky, eigendecomposition), log-determinants and the pseudo-inverse, each on
// the host in double precision per matrix of a batch, with PyTorch's derivatives.
public static partial class Linalg
{
    /// <summary>
    /// The lower-triangular L with A = L·Lᵀ of each symmetric positive-definite matrix (<c>torch.linalg.cholesky</c>); its
    /// lower triangle is read. A matrix that is not positive-definite is an error naming the failing minor.
    /// </summary>
    public static Tensor Cholesky(Tensor a)
    {
        using var scope = Tensor.Scope();
        const string op = "linalg.cholesky";
        int n = CheckSquare(op, a);
        Tensor? l = null;
        return scope.Keep(Autograd.Function("linalg_cholesky", [a], () => l = PerMatrix(op, a, a.ShapeArray, (m, output) =>
        {
            int failed = DenseDecompositions.Cholesky(m, n, output);
            if (failed > 0)
                throw new KilnException(op, $"{op}: The factorization could not be completed because the input is not positive-definite (the leading minor of order {failed} is not positive-definite).", KilnErrorKind.State);
        }), grad =>
        {
            // PyTorch's rule: P = tril(Lᵀ·gL), gA = L⁻ᵀ·½(P + tril(P, -1)ᵀ)·L⁻¹ (symmetric).
            using var lt = l!.Transpose(-2, -1);
            using var product = lt.Matmul(grad);
            using var p = product.Tril();
            using var strict = p.Tril(-1);
            using var mirrored = strict.Transpose(-2, -1);
            using var sum = p + mirrored;
            using var half = sum * 0.5;
            using var left = Solve(lt, half);                      // L⁻ᵀ·half
            using var leftT = left.Transpose(-2, -1);
            using var both = Solve(lt, leftT);                     // (left·L⁻¹)ᵀ = L⁻ᵀ·leftᵀ
            return [both.Transpose(-2, -1).Contiguous()];
        }));
    }

    /// <summary>
    /// Eigenvalues (ascending) and orthonormal eigenvectors (columns) of each symmetric matrix (<c>torch.linalg.eigh</c>;
    /// the lower triangle's symmetric part is used). Each eigenvector's largest component is positive; a loss should not
    /// depend on the signs, as in PyTorch. Differentiable where the eigenvalues are distinct.
    /// </summary>
    public static (Tensor Eigenvalues, Tensor Eigenvectors) Eigh(Tensor a)
    {
        const string op = "linalg.eigh";
        int n = CheckSquare(op, a);
        var valueShape = a.ShapeArray[..^1];
        Tensor values, vectors;
        using (GradMode.Set(false))
        {
            var f = PerMatrix(op, a, valueShape, (m, output) => { }, outputPerMatrix: n, second: (a.ShapeArray, n * n), both: (matrix, valuesOut, vectorsOut) =>
                DenseDecompositions.SymmetricEigen(matrix, n, valuesOut, vectorsOut));
            (values, vectors) = (f.First, f.Second!);
        }
        if (!(a.RequiresGrad && GradMode.Enabled)) return (values, vectors);
        var outputs = Packed("linalg_eigh", a, [values, vectors], grads =>
        {
            // PyTorch's rule: gA = V·(skew(Vᵀ·gV)/E + diag(gL))·Vᵀ with E[i, j] = L[j] − L[i] (its diagonal set to 1).
            var (gL, gV) = (grads[0], grads[1]);
            using var vt = vectors.Transpose(-2, -1);
            using var vtgv = vt.Matmul(gV);
            using var transposed = vtgv.Transpose(-2, -1);
            using var difference = vtgv - transposed;
            using var skew = difference * 0.5;
            using var e = values.Unsqueeze(-2) - values.Unsqueeze(-1);
            using var eye = Tensor.Eye(n, null, a.DType);
            using var eyeOnDevice = eye.To(a.Device);
            using var safeE = e + eyeOnDevice;
            using var scaled = skew / safeE;
            using var offDiagonal = scaled * (1.0 - eyeOnDevice);
            using var diagonal = gL.DiagEmbed();
            using var inner = offDiagonal + diagonal;
            using var left = vectors.Matmul(inner);
            return left.Matmul(vt);
        });
        return (outputs[0], outputs[1]);
    }

    /// <summary>The eigenvalues (ascending) of each symmetric matrix (<c>torch.linalg.eigvalsh</c>); differentiable.</summary>
    public static Tensor Eigvalsh(Tensor a)
    {
        var (values, vectors) = Eigh(a);
        vectors.Dispose();
        return values;
    }

    /// <summary>
    /// The sign and the log of the absolute value of each determinant (<c>torch.linalg.slogdet</c>): no overflow where the
    /// determinant itself would. The log is differentiable (its gradient A⁻ᵀ); a singular matrix gives sign 0 and -inf.
    /// </summary>
    public static (Tensor Sign, Tensor LogAbsDet) Slogdet(Tensor a)
    {
        const string op = "linalg.slogdet";
        int n = CheckSquare(op, a);
        var batch = a.ShapeArray[..^2];
        Tensor sign, logAbs;
        using (GradMode.Set(false))
        {
            var f = PerMatrix(op, a, batch, (m, o) => { }, outputPerMatrix: 1, second: (batch, 1), both: (m, signOut, logOut) =>
            {
                var pivots = new int[n];
                int s = DenseDecompositions.Lu(m, n, pivots, out int zero);
                if (zero >= 0) { signOut[0] = 0; logOut[0] = double.NegativeInfinity; return; }
                double log = 0;
                for (int i = 0; i < n; i++)
                {
                    double d = m[i * n + i];
                    if (d < 0) s = -s;
                    log += Math.Log(Math.Abs(d));
                }
                signOut[0] = s;
                logOut[0] = log;
            });
            (sign, logAbs) = (f.First, f.Second!);
        }
        if (!(a.RequiresGrad && GradMode.Enabled)) return (sign, logAbs);
        var value = logAbs;
        var logged = Autograd.Function("linalg_slogdet", [a], () => value, grad =>
        {
            using var inverse = Inv(a);
            using var invT = inverse.Transpose(-2, -1);
            using var g1 = grad.Unsqueeze(-1);
            using var g2 = g1.Unsqueeze(-1);
            return [g2.Mul(invT)];
        });
        return (sign, logged);
    }

    /// <summary>log det A of each square matrix (<c>torch.logdet</c>): NaN for a negative determinant, -inf for a singular one.</summary>
    public static Tensor Logdet(Tensor a)
    {
        using var scope = Tensor.Scope();
        var (sign, logAbs) = Slogdet(a);
        using (sign)
        using (logAbs)
        {
            using var negative = sign.Lt(0);
            using var nan = Tensor.Full([], double.NaN, a.DType, a.Device);
            return scope.Keep(Tensor.Where(negative, nan, logAbs));
        }
    }

    /// <summary>
    /// The Moore-Penrose pseudo-inverse of each matrix through the SVD (<c>torch.linalg.pinv</c>): singular values at or
    /// below <paramref name="rtol"/> times the largest are treated as zero (default: the dtype's eps times max(m, n)).
    /// </summary>
    public static Tensor Pinv(Tensor a, double? rtol = null)
    {
        const string op = "linalg.pinv";
        CheckMatrix(op, a);
        int m = a.Size(-2), n = a.Size(-1);
        double cut = rtol ?? a.DType.Eps() * Math.Max(m, n);
        var (u, s, vh) = Svd(a);
        using (u)
        using (s)
        using (vh)
            return PinvOf(u, s, vh, cut);
    }

    /// <summary>V·diag(1/σ)·Uᵀ of a thin SVD, singular values at or below <paramref name="cut"/>·σ_max read as zero.</summary>
    static Tensor PinvOf(Tensor u, Tensor s, Tensor vh, double cut)
    {
        {
            using var largest = s.Amax(-1, keepDim: true);
            Tensor keep;
            using (Autograd.NoGrad()) { using var threshold = largest * cut; keep = s.Gt(threshold); }
            using (keep)
            {
                using var one = Tensor.Full([], 1, s.DType, s.Device);
                using var zero = Tensor.Full([], 0, s.DType, s.Device);
                using var safe = Tensor.Where(keep, s, one);
                using var reciprocal = safe.Reciprocal();
                using var inverse = Tensor.Where(keep, reciprocal, zero);
                using var v = vh.Transpose(-2, -1);
                using var scaled = v * inverse.Unsqueeze(-2);
                using var ut = u.Transpose(-2, -1);
                return scaled.Matmul(ut);
            }
        }
    }
}
