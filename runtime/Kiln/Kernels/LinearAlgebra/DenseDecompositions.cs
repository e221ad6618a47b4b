using System;

namespace Kiln.Kernels.LinearAlgebra;

/// <summary>
/// Dense factorizations of one small matrix in double precision on the host (row-major n×n or m×n spans): LU with partial
/// pivoting, Householder QR and one-sided Jacobi SVD. The linalg functions call these per matrix of a batch.
/// </summary>
internal static class DenseDecompositions
{
    /// <summary>
    /// In-place LU of <paramref name="a"/> (n×n) with row pivots; returns the permutation's sign, or 0 when a pivot is
    /// exactly zero (the matrix is singular) with <paramref name="zeroPivot"/> its column.
    /// </summary>
    public static int Lu(Span<double> a, int n, Span<int> pivots, out int zeroPivot)
    {
        int sign = 1;
        zeroPivot = -1;
        for (int k = 0; k < n; k++)
        {
            int p = k;
            double best = Math.Abs(a[k * n + k]);
            for (int i = k + 1; i < n; i++)
            {
                double v = Math.Abs(a[i * n + k]);
                if (v > best) { best = v; p = i; }
            }
            pivots[k] = p;
            if (best == 0) { if (zeroPivot < 0) zeroPivot = k; sign = 0; continue; }
            if (p != k)
            {
                for (int j = 0; j < n; j++) (a[k * n + j], a[p * n + j]) = (a[p * n + j], a[k * n + j]);
                if (sign != 0) sign = -sign;
            }
            double pivot = a[k * n + k];
            for (int i = k + 1; i < n; i++)
            {
                double f = a[i * n + k] /= pivot;
                if (f == 0) continue;
                for (int j = k + 1; j < n; j++) a[i * n + j] -= f * a[k * n + j];
            }
        }
        return sign;
    }

    /// <summary>Solves A·X = B in place in <paramref name="b"/> (n×m) from an LU factorization of A.</summary>
    public static void LuSolve(ReadOnlySpan<double> lu, int n, ReadOnlySpan<int> pivots, Span<double> b, int m)
    {
        for (int k = 0; k < n; k++)
            if (pivots[k] != k)
                for (int j = 0; j < m; j++) (b[k * m + j], b[pivots[k] * m + j]) = (b[pivots[k] * m + j], b[k * m + j]);
        for (int i = 0; i < n; i++)           // L·Y = P·B (unit diagonal)
            for (int k = 0; k < i; k++)
            {
                double f = lu[i * n + k];
                if (f != 0) for (int j = 0; j < m; j++) b[i * m + j] -= f * b[k * m + j];
            }
        for (int i = n - 1; i >= 0; i--)      // U·X = Y
        {
            for (int k = i + 1; k < n; k++)
            {
                double f = lu[i * n + k];
                if (f != 0) for (int j = 0; j < m; j++) b[i * m + j] -= f * b[k * m + j];
            }
            double d = lu[i * n + i];
            for (int j = 0; j < m; j++) b[i * m + j] /= d;
        }
    }

    /// <summary>Reduced QR of an m×n matrix (k = min(m, n)): Q m×k with orthonormal columns, R k×n upper triangular, with LAPACK's Householder signs.</summary>
    public static void Qr(ReadOnlySpan<double> a, int m, int n, Span<double> q, Span<double> r)
    {
        int k = Math.Min(m, n);
        var work = a.ToArray();                       // m×n, reduced to R in place
        var vs = new double[k][];
        for (int j = 0; j < k; j++)
        {
            double below = 0;
            for (int i = j + 1; i < m; i++) below += work[i * n + j] * work[i * n + j];
            var v = new double[m - j];
            // Nothing below the diagonal: LAPACK's reflector is the identity (tau = 0), the sign of R's entry is kept.
            if (below == 0) { vs[j] = v; continue; }
            double norm = Math.Sqrt(below + work[j * n + j] * work[j * n + j]);
            double alpha = work[j * n + j] > 0 ? -norm : norm;   // LAPACK's choice: beta = -sign(a)·norm
            for (int i = j; i < m; i++) v[i - j] = work[i * n + j];
            v[0] -= alpha;
            double vv = 0;
            foreach (var x in v) vv += x * x;
            if (vv == 0) { vs[j] = new double[m - j]; continue; }
            for (int c = j; c < n; c++)
            {
                double dot = 0;
                for (int i = j; i < m; i++) dot += v[i - j] * work[i * n + c];
                double f = 2 * dot / vv;
                for (int i = j; i < m; i++) work[i * n + c] -= f * v[i - j];
            }
            vs[j] = v;
            for (int i = j + 1; i < m; i++) work[i * n + j] = 0;
        }
        for (int i = 0; i < k; i++)
            for (int c = 0; c < n; c++) r[i * n + c] = c >= i ? work[i * n + c] : 0;
        // Q = H_0 · H_1 ⋯ H_{k-1} applied to the first k columns of the identity.
        q.Clear();
        for (int i = 0; i < k; i++) q[i * k + i] = 1;
        for (int j = k - 1; j >= 0; j--)
        {
            var v = vs[j];
            double vv = 0;
            foreach (var x in v) vv += x * x;
            if (vv == 0) continue;
            for (int c = 0; c < k; c++)
            {
                double dot = 0;
                for (int i = j; i < m; i++) dot += v[i - j] * q[i * k + c];
                double f = 2 * dot / vv;
                for (int i = j; i < m; i++) q[i * k + c] -= f * v[i - j];
            }
        }
    }

    /// <summary>
    /// Thin SVD of an m×n matrix by one-sided Jacobi rotations: U m×k, S (k, descending), Vᵀ k×n with k = min(m, n).
    /// </summary>
    public static void Svd(ReadOnlySpan<double> a, int m, int n, Span<double> u, Span<double> s, Span<double> vt)
    {
        bool wide = n > m;   // work on the tall form: Aᵀ = V·S·Uᵀ
        int rows = wide ? n : m, cols = wide ? m : n;
        var w = new double[rows * cols];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                if (wide) w[j * cols + i] = a[i * n + j]; else w[i * cols + j] = a[i * n + j];
        var v = new double[cols * cols];
        for (int i = 0; i < cols; i++) v[i * cols + i] = 1;
        for (int sweep = 0; sweep < 60; sweep++)
        {
            double off = 0;
            for (int p = 0; p < cols - 1; p++)
                for (int q = p + 1; q < cols; q++)
                {
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < rows; i++)
                    {
                        double wp = w[i * cols + p], wq = w[i * cols + q];
                        alpha += wp * wp; beta += wq * wq; gamma += wp * wq;
                    }
                    if (gamma == 0 || Math.Abs(gamma) <= 1e-15 * Math.Sqrt(alpha * beta)) continue;
                    off = Math.Max(off, Math.Abs(gamma) / Math.Sqrt(alpha * beta));
                    var (c, sn) = JacobiRotation((beta - alpha) / (2 * gamma));
                    RotateColumns(w, rows, cols, p, q, c, sn);
                    RotateColumns(v, cols, cols, p, q, c, sn);
                }
            if (off < 1e-15) break;
        }
        // Singular values are the column norms; order them descending.
        var norms = new double[cols];
        var order = new int[cols];
        for (int j = 0; j < cols; j++)
        {
            double sum = 0;
            for (int i = 0; i < rows; i++) sum += w[i * cols + j] * w[i * cols + j];
            norms[j] = Math.Sqrt(sum);
            order[j] = j;
        }
        Array.Sort(order, (x, y) => norms[y].CompareTo(norms[x]));
        int k = cols;
        var left = new double[rows * k];    // the tall form's U (rows×k) and V (cols×k)
        var right = new double[cols * k];
        for (int c = 0; c < k; c++)
        {
            int j = order[c];
            s[c] = norms[j];
            for (int i = 0; i < rows; i++) left[i * k + c] = norms[j] > 0 ? w[i * cols + j] / norms[j] : 0;
            for (int i = 0; i < cols; i++) right[i * k + c] = v[i * cols + j];
        }
        CompleteOrthonormal(left, rows, k, s);
        // A = U·S·Vᵀ; for a wide A, Aᵀ = left·S·rightᵀ, so U = right and Vᵀ = leftᵀ.
        var (uu, vv2, um) = wide ? (right, left, m) : (left, right, m);
        for (int i = 0; i < um; i++) for (int c = 0; c < k; c++) u[i * k + c] = uu[i * k + c];
        int vn = wide ? n : n;
        for (int c = 0; c < k; c++) for (int j = 0; j < vn; j++) vt[c * vn + j] = vv2[j * k + c];
    }

    /// <summary>Columns of zero singular value get unit vectors orthogonal to the others (Gram–Schmidt on the identity).</summary>
    static void CompleteOrthonormal(double[] q, int rows, int k, Span<double> s)
    {
        for (int c = 0; c < k; c++)
        {
            if (s[c] > 0) continue;
            for (int e = 0; e < rows; e++)
            {
                var cand = new double[rows];
                cand[e] = 1;
                for (int o = 0; o < k; o++)
                {
                    if (o == c || (s[o] <= 0 && o > c)) continue;
                    double dot = 0;
                    for (int i = 0; i < rows; i++) dot += cand[i] * q[i * k + o];
                    for (int i = 0; i < rows; i++) cand[i] -= dot * q[i * k + o];
                }
                double norm = 0;
                foreach (var x in cand) norm += x * x;
                norm = Math.Sqrt(norm);
                if (norm < 1e-8) continue;
                for (int i = 0; i < rows; i++) q[i * k + c] = cand[i] / norm;
                break;
            }
        }
    }

    /// <summary>
    /// The lower Cholesky factor L of a symmetric positive-definite <paramref name="a"/> (n×n, its lower triangle read)
    /// into <paramref name="l"/>; returns -1, or the order of the first leading minor that is not positive-definite.
    /// </summary>
    public static int Cholesky(ReadOnlySpan<double> a, int n, Span<double> l)
    {
        l.Clear();
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
            if (!(d > 0)) return j + 1;
            double root = Math.Sqrt(d);
            l[j * n + j] = root;
            for (int i = j + 1; i < n; i++)
            {
                double v = a[i * n + j];
                for (int k = 0; k < j; k++) v -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = v / root;
            }
        }
        return -1;
    }

    /// <summary>
    /// Eigenvalues (ascending, into <paramref name="values"/>) and orthonormal eigenvectors (the columns of row-major
    /// <paramref name="vectors"/>) of the symmetric <paramref name="a"/> (n×n, overwritten) by cyclic Jacobi rotations.
    /// Each vector's sign makes its largest-magnitude component positive.
    /// </summary>
    public static void SymmetricEigen(Span<double> a, int n, Span<double> values, Span<double> vectors)
    {
        vectors.Clear();
        for (int i = 0; i < n; i++) vectors[i * n + i] = 1;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) a[j * n + i] = a[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, scale = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double v = a[i * n + j] * a[i * n + j];
                    if (i == j) scale += v; else off += v;
                }
            if (off <= 1e-30 * Math.Max(scale, double.Epsilon)) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (apq == 0) continue;
                    // Jᵀ·A·J with J the rotation that zeroes a[p, q]; the vectors accumulate J.
                    var (c, s) = JacobiRotation((a[q * n + q] - a[p * n + p]) / (2 * apq));
                    RotateColumns(a, n, n, p, q, c, s);
                    RotateRows(a, n, p, q, c, s);
                    RotateColumns(vectors, n, n, p, q, c, s);
                }
        }
        // Ascending order, columns moved with their values.
        var order = new int[n];
        var diagonal = new double[n];
        for (int i = 0; i < n; i++) { order[i] = i; diagonal[i] = a[i * n + i]; }
        Array.Sort((double[])diagonal.Clone(), order);
        var sorted = vectors.ToArray();
        for (int j = 0; j < n; j++)
        {
            int from = order[j];
            values[j] = diagonal[from];
            int peak = 0;
            for (int i = 1; i < n; i++) if (Math.Abs(sorted[i * n + from]) > Math.Abs(sorted[peak * n + from])) peak = i;
            double sign = sorted[peak * n + from] < 0 ? -1 : 1;
            for (int i = 0; i < n; i++) vectors[i * n + j] = sign * sorted[i * n + from];
        }
    }

    /// <summary>The plane rotation (c, s) that zeroes the off-diagonal entry whose ζ = (a_qq - a_pp) / (2·a_pq) is given (ζ = 0: 45°).</summary>
    static (double C, double S) JacobiRotation(double zeta)
    {
        double t = Math.Sign(zeta == 0 ? 1 : zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
        double c = 1 / Math.Sqrt(1 + t * t);
        return (c, c * t);
    }

    /// <summary>Columns p and q of a row-major rows×cols matrix rotated: (c·x_p - s·x_q, s·x_p + c·x_q).</summary>
    static void RotateColumns(Span<double> m, int rows, int cols, int p, int q, double c, double s)
    {
        for (int i = 0; i < rows; i++)
        {
            double xp = m[i * cols + p], xq = m[i * cols + q];
            m[i * cols + p] = c * xp - s * xq;
            m[i * cols + q] = s * xp + c * xq;
        }
    }

    /// <summary>Rows p and q of a row-major n×n matrix rotated the same way.</summary>
    static void RotateRows(Span<double> m, int n, int p, int q, double c, double s)
    {
        for (int k = 0; k < n; k++)
        {
            double xp = m[p * n + k], xq = m[q * n + k];
            m[p * n + k] = c * xp - s * xq;
            m[q * n + k] = s * xp + c * xq;
        }
    }
}
