using System;
using System.Linq;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.LinearAlgebra;

namespace Kiln;

/// <summary>
/// <c>torch.linalg</c>: inverse, determinant, solve, QR, SVD and norms of matrices [..., m, n] (batches of matrices too).
/// Factorizations run on the host in double precision and return the input's dtype and device. Inverse, determinant and
/// solve are differentiable (their backward is written with these same functions, so it is differentiable again), QR
/// (m ≥ n) and the thin SVD (distinct singular values) too; norms through SVD (2, -2, "nuc") are not.
/// </summary>
public static partial class Linalg
{
    /// <summary>The inverse of each square matrix (<c>torch.linalg.inv</c>); a singular one is an error naming the zero pivot.</summary>
    public static Tensor Inv(Tensor a)
    {
        const string op = "linalg.inv";
        int n = CheckSquare(op, a);
        Tensor? y = null;
        return Autograd.Function("linalg_inv", [a], () => y = PerMatrix(op, a, a.ShapeArray, (m, output) =>
        {
            var pivots = new int[n];
            DenseDecompositions.Lu(m, n, pivots, out int zero);
            if (zero >= 0)
                throw new KilnException(op, $"{op}: The diagonal element {zero + 1} is zero, the inversion could not be completed because the input matrix is singular.", KilnErrorKind.State);
            output.Clear();
            for (int i = 0; i < n; i++) output[i * n + i] = 1;
            DenseDecompositions.LuSolve(m, n, pivots, output, n);
        }), grad =>
        {
            // d(A⁻¹) = -A⁻¹ dA A⁻¹, so dL/dA = -A⁻ᵀ G A⁻ᵀ.
            using var yt = y!.Transpose(-2, -1);
            using var left = yt.Matmul(grad);
            using var both = left.Matmul(yt);
            return [both.Neg()];
        });
    }

    /// <summary>The determinant of each square matrix (<c>torch.linalg.det</c>).</summary>
    public static Tensor Det(Tensor a)
    {
        const string op = "linalg.det";
        int n = CheckSquare(op, a);
        Tensor? d = null;
        return Autograd.Function("linalg_det", [a], () => d = PerMatrix(op, a, a.ShapeArray[..^2], (m, output) =>
        {
            var pivots = new int[n];
            int sign = DenseDecompositions.Lu(m, n, pivots, out _);
            double det = sign;
            for (int i = 0; i < n && det != 0; i++) det *= m[i * n + i];
            output[0] = det;
        }, outputPerMatrix: 1), grad =>
        {
            // d det / dA = det · A⁻ᵀ (a singular matrix has no inverse: its gradient is refused by Inv).
            using var inverse = Inv(a);
            using var invT = inverse.Transpose(-2, -1);
            using var scale = grad.Mul(d!);
            using var s1 = scale.Unsqueeze(-1);
            using var s2 = s1.Unsqueeze(-1);
            return [s2.Mul(invT)];
        });
    }

    /// <summary>
    /// X with A·X = B (<c>torch.linalg.solve</c>): A [..., n, n]; B [..., n, k], or [..., n] for one right-hand side.
    /// The batch dims broadcast (one matrix for many right-hand sides is solved without copying it).
    /// </summary>
    public static Tensor Solve(Tensor a, Tensor b)
    {
        const string op = "linalg.solve";
        int n = CheckSquare(op, a);
        // One right-hand side when B is 1-D or A's shape without its last dim (PyTorch's rule); otherwise matrices.
        bool vector = b.Dim == 1 || (b.Dim == a.Dim - 1 && ShapeRules.SameShape(b.ShapeArray, a.ShapeArray[..^1]));
        using var rhs = vector ? b.Unsqueeze(-1) : b.Alias();
        if (rhs.Size(-2) != n)
            throw new KilnException(op, $"{op}: A {ShapeText.Format(a.ShapeArray)} and B {ShapeText.Format(b.ShapeArray)}: B's rows must be A's {n}", KilnErrorKind.Shape);
        bool shared = a.Dim == 2 && rhs.Dim > 2;
        if (!shared && !ShapeRules.SameShape(a.ShapeArray[..^2], rhs.ShapeArray[..^2]))
        {
            // Broadcast batch dims: both sides expanded (their gradients sum back over the broadcast dims).
            var batch = ShapeRules.Broadcast(op, a.ShapeArray[..^2], rhs.ShapeArray[..^2]);
            using var wideA = a.Expand([.. batch, n, n]);
            using var wideB = b.Expand(vector ? [.. batch, n] : [.. batch, n, rhs.Size(-1)]);
            return Solve(wideA, wideB);
        }
        Tensor? x = null;
        var result = Autograd.Function("linalg_solve", [a, b], () =>
        {
            int k = rhs.Size(-1);
            using var a64 = Host(a);
            using var b64 = Host(rhs);
            var outShape = (int[])rhs.ShapeArray.Clone();
            var solved = Tensor.Empty(outShape, DType.Float64);
            long matrices = rhs.Numel / Math.Max(1, (long)n * k);
            var lu = new double[n * n];
            var pivots = new int[n];
            var av = a64.AsSpan<double>();
            var bv = b64.AsSpan<double>();
            var xv = solved.AsSpan<double>();
            for (long i = 0; i < matrices; i++)
            {
                av.Slice((int)((shared ? 0 : i) * n * n), n * n).CopyTo(lu);
                DenseDecompositions.Lu(lu, n, pivots, out int zero);
                if (zero >= 0) throw new KilnException(op, $"{op}: The solver failed because the input matrix is singular (zero pivot in column {zero + 1}).");
                var block = xv.Slice((int)(i * n * k), n * k);
                bv.Slice((int)(i * n * k), n * k).CopyTo(block);
                DenseDecompositions.LuSolve(lu, n, pivots, block, k);
            }
            using (solved)
            {
                using var typed = solved.To(b.DType);
                using var placed = typed.To(b.Device);
                x = vector ? placed.Squeeze(-1) : placed.Alias();
                return x;
            }
        }, grad =>
        {
            // A·X = B: dL/dB = A⁻ᵀ G (a solve with Aᵀ), dL/dA = -dL/dB · Xᵀ.
            using var at = a.Transpose(-2, -1);
            var gb = Solve(at, grad);
            using var gbm = vector ? gb.Unsqueeze(-1) : gb.Alias();
            using var xm = vector ? x!.Unsqueeze(-1) : x!.Alias();
            using var xt = xm.Transpose(-2, -1);
            using var outer = gbm.Matmul(xt);
            var ga = outer.Neg();
            if (shared && ga.Dim > 2)
            {
                using var full = ga;
                var dims = new int[full.Dim - 2];
                for (int i = 0; i < dims.Length; i++) dims[i] = i;
                ga = full.Sum(dims);
            }
            return [ga, gb];
        });
        return result;
    }

    /// <summary>
    /// The reduced QR factorization A = Q·R (<c>torch.linalg.qr</c>, mode "reduced"), with LAPACK's Householder signs.
    /// Differentiable for m ≥ n (full column rank).
    /// </summary>
    public static (Tensor Q, Tensor R) Qr(Tensor a)
    {
        const string op = "linalg.qr";
        CheckMatrix(op, a);
        int m = a.Size(-2), n = a.Size(-1), k = Math.Min(m, n);
        var qShape = (int[])a.ShapeArray.Clone(); qShape[^1] = k;
        var rShape = (int[])a.ShapeArray.Clone(); rShape[^2] = k;
        Tensor Q, R;
        using (GradMode.Set(false))
        {
            var f = PerMatrix(op, a, qShape, (matrix, output) => { }, outputPerMatrix: m * k, second: (rShape, k * n), both: (matrix, qOut, rOut) =>
                DenseDecompositions.Qr(matrix, m, n, qOut, rOut));
            (Q, R) = (f.First, f.Second!);
        }
        if (!(a.RequiresGrad && GradMode.Enabled)) return (Q, R);
        if (m < n) throw new KilnException(op, $"{op}: gradients of a wide QR (m < n, here {m} x {n}) are not implemented yet", KilnErrorKind.Unsupported);
        // One node for both outputs: they are views of one packed tensor, whose gradient arrives as the two parts.
        var outputs = Packed("linalg_qr", a, [Q, R], grads =>
        {
            // M = R·gRᵀ − gQᵀ·Q; gA = (gQ + Q·copyltu(M))·R⁻ᵀ, copyltu mirroring M's lower triangle upward.
            var (gQ, gR) = (grads[0], grads[1]);
            using var rgr = R.Matmul(gR.Transpose(-2, -1));
            using var qgq = gQ.Transpose(-2, -1).Matmul(Q);
            using var mm = rgr - qgq;
            using var lower = mm.Tril(-1);
            using var copy = mm.Tril() + lower.Transpose(-2, -1);
            using var b = gQ + Q.Matmul(copy);
            using var bt = b.Transpose(-2, -1);
            using var x = Solve(R, bt);        // R · Xᵀ... = Bᵀ, so B·R⁻ᵀ = (R⁻¹·Bᵀ)ᵀ
            return x.Transpose(-2, -1).Contiguous();
        });
        return (outputs[0], outputs[1]);
    }

    /// <summary>
    /// The thin SVD A = U·diag(S)·Vh (<c>torch.linalg.svd(full_matrices=False)</c>); S descending, signs as the Jacobi
    /// method leaves them. Differentiable where the singular values are distinct and non-zero (the loss must not depend on
    /// the vectors' signs, as in PyTorch).
    /// </summary>
    public static (Tensor U, Tensor S, Tensor Vh) Svd(Tensor a)
    {
        var (u, s, vh) = SvdValues(a);
        if (!(a.RequiresGrad && GradMode.Enabled)) return (u, s, vh);
        int m = a.Size(-2), n = a.Size(-1);
        var outputs = Packed("linalg_svd", a, [u, s, vh], grads =>
        {
            // gA = U[(skew(UᵀgU)/E)·S + S·(skew(VᵀgV)/E) + diag(gS)]Vᵀ + (I − UUᵀ)gU S⁻¹Vᵀ + U S⁻¹ gVᵀ(I − VVᵀ), E_jk = S_k² − S_j².
            var (gU, gS, gVh) = (grads[0], grads[1], grads[2]);
            using var v = vh.Transpose(-2, -1);
            using var gV = gVh.Transpose(-2, -1);
            using var s2 = s * s;
            using var e = s2.Unsqueeze(-2) - s2.Unsqueeze(-1);
            using var hostEye = Tensor.Eye(s.Size(-1), null, s.DType);
            using var eye = hostEye.To(s.Device);
            using var safeE = e + eye;                            // the diagonal's skew part is zero: any non-zero divisor
            using var utgu = u.Transpose(-2, -1).Matmul(gU);
            using var vtgv = v.Transpose(-2, -1).Matmul(gV);
            using var skewU = utgu - utgu.Transpose(-2, -1);
            using var skewV = vtgv - vtgv.Transpose(-2, -1);
            using var inner = (skewU / safeE) * s.Unsqueeze(-2) + s.Unsqueeze(-1) * (skewV / safeE) + gS.Unsqueeze(-1) * eye;
            var ga = u.Matmul(inner).Matmul(vh);
            using var sInv = s.Pow(-1.0);
            if (m > s.Size(-1))
            {
                using var proj = gU - u.Matmul(utgu);
                using var extra = (proj * sInv.Unsqueeze(-2)).Matmul(vh);
                var sum = ga + extra; ga.Dispose(); ga = sum;
            }
            if (n > s.Size(-1))
            {
                using var proj = gV - v.Matmul(vtgv);
                using var extra = (u * sInv.Unsqueeze(-2)).Matmul(proj.Transpose(-2, -1));
                var sum = ga + extra; ga.Dispose(); ga = sum;
            }
            return ga;
        });
        return (outputs[0], outputs[1], outputs[2]);
    }

    /// <summary>
    /// Several outputs of one differentiable factorization as views of one packed node: <paramref name="backward"/> gets
    /// each output's gradient (zeros for one the loss does not use) and returns the input's.
    /// </summary>
    static Tensor[] Packed(string name, Tensor a, Tensor[] values, Func<Tensor[], Tensor> backward)
    {
        var sizes = values.Select(v => (int)v.Numel).ToArray();
        var packed = Autograd.Function(name, [a], () =>
        {
            var flats = values.Select(v => v.Reshape(-1)).ToArray();
            try { return Tensor.Cat(flats, 0); }
            finally { foreach (var f in flats) f.Dispose(); }
        }, grad =>
        {
            var parts = new Tensor[values.Length];
            int at = 0;
            for (int i = 0; i < values.Length; i++)
            {
                using var part = grad.Narrow(0, at, sizes[i]);
                parts[i] = part.Reshape(values[i].ShapeArray);
                at += sizes[i];
            }
            try { return [backward(parts)]; }
            finally { foreach (var p in parts) p.Dispose(); }
        });
        var outputs = new Tensor[values.Length];
        int offset = 0;
        for (int i = 0; i < values.Length; i++)
        {
            using var part = packed.Narrow(0, offset, sizes[i]);
            outputs[i] = part.Reshape(values[i].ShapeArray);
            offset += sizes[i];
        }
        return outputs;
    }

    static (Tensor U, Tensor S, Tensor Vh) SvdValues(Tensor a)
    {
        const string op = "linalg.svd";
        CheckMatrix(op, a);
        using var noGrad = GradMode.Set(false);
        int m = a.Size(-2), n = a.Size(-1), k = Math.Min(m, n);
        using var a64 = Host(a);
        long count = a.Numel / Math.Max(1, (long)m * n);
        var batch = a.ShapeArray[..^2];
        var u = Tensor.Empty([.. batch, m, k], DType.Float64);
        var s = Tensor.Empty([.. batch, k], DType.Float64);
        var vh = Tensor.Empty([.. batch, k, n], DType.Float64);
        var av = a64.AsSpan<double>();
        for (long i = 0; i < count; i++)
            DenseDecompositions.Svd(av.Slice((int)(i * m * n), m * n), m, n,
                u.AsSpan<double>().Slice((int)(i * m * k), m * k), s.AsSpan<double>().Slice((int)(i * k), k), vh.AsSpan<double>().Slice((int)(i * k * n), k * n));
        return (Back(u, a), Back(s, a), Back(vh, a));
    }

    /// <summary>
    /// <c>torch.linalg.norm</c> with a number order: over all elements (or <paramref name="dims"/>, one dim) a vector norm;
    /// over two dims of a matrix (a 2-D input, or two <paramref name="dims"/> of a batch) the matrix norm of
    /// <see cref="MatrixNorm(Tensor, double, int[], bool)"/>. Without an order: the 2-norm of all elements (Frobenius for a matrix).
    /// </summary>
    public static Tensor Norm(Tensor x, double? ord = null, int[]? dims = null, bool keepDim = false)
    {
        const string op = "linalg.norm";
        if (ord is null) return x.Norm(2, dims, keepDim);
        bool matrix = dims is { Length: 2 } || (dims is null && x.Dim == 2);
        if (matrix) return MatrixNorm(x, ord.Value, dims ?? [-2, -1], keepDim);
        if (dims is null && x.Dim != 1) throw new KilnException(op, $"{op}: a number order without dims needs a 1-D or 2-D input, got shape {ShapeText.Format(x.ShapeArray)}", KilnErrorKind.Shape);
        return x.Norm(ord.Value, dims, keepDim);
    }

    /// <summary><c>torch.linalg.norm</c> with "fro" (Frobenius) or "nuc" (sum of singular values) over a matrix (or two <paramref name="dims"/> of a batch).</summary>
    public static Tensor Norm(Tensor x, string ord, bool keepDim = false, int[]? dims = null)
    {
        if (dims is null && x.Dim != 2)
            throw new KilnException("linalg.norm", $"linalg.norm: '{ord}' needs a matrix, or two dims of a batch, got shape {ShapeText.Format(x.ShapeArray)}", KilnErrorKind.Shape);
        return MatrixNorm(x, ord, dims ?? [-2, -1], keepDim);
    }

    /// <summary>The dot product of vectors along <paramref name="dim"/>, broadcasting the rest (<c>torch.linalg.vecdot</c>, real tensors).</summary>
    public static Tensor Vecdot(Tensor x, Tensor y, int dim = -1)
    {
        using var products = x.Mul(y);
        return products.Sum([dim]);
    }

    /// <summary>
    /// The vector norm of order <paramref name="ord"/> over <paramref name="dims"/> (all elements by default)
    /// (<c>torch.linalg.vector_norm</c>): Σ|x|^p to the 1/p, ∞ the largest |x|, -∞ the smallest, 0 the count of non-zeros.
    /// </summary>
    public static Tensor VectorNorm(Tensor x, double ord = 2, int[]? dims = null, bool keepDim = false) => x.Norm(ord, dims, keepDim);

    /// <summary>
    /// The matrix norm of each matrix over <paramref name="dims"/> (the last two by default) (<c>torch.linalg.matrix_norm</c>):
    /// ord 1/-1 the largest/smallest column sum of |A|, ∞/-∞ the largest/smallest row sum, 2/-2 the largest/smallest
    /// singular value (differentiable where the singular values are distinct).
    /// </summary>
    public static Tensor MatrixNorm(Tensor x, double ord, int[]? dims = null, bool keepDim = false)
    {
        const string op = "linalg.matrix_norm";
        var (rows, columns) = MatrixDims(op, x, dims);
        if (Math.Abs(ord) == 1 || double.IsInfinity(ord))
        {
            // |A| summed down the columns (1) or along the rows (∞), then the extreme of those sums.
            using var abs = x.Abs();
            int summed = Math.Abs(ord) == 1 ? rows : columns, across = Math.Abs(ord) == 1 ? columns : rows;
            using var sums = abs.Sum([summed], keepDim: true);
            using var extreme = ord > 0 ? sums.Amax([across], keepDim: true) : sums.Amin([across], keepDim: true);
            if (keepDim) return extreme.To(extreme.DType);
            using var once = extreme.Squeeze(Math.Max(rows, columns));   // the later dim first, so the earlier keeps its index
            return once.Squeeze(Math.Min(rows, columns));
        }
        if (Math.Abs(ord) == 2)
        {
            using var s = SingularValuesOver(x, rows, columns);
            using var extreme = ord > 0 ? s.Amax([-1]) : s.Amin([-1]);
            return keepDim ? KeepMatrixDims(extreme, rows, columns) : extreme.To(extreme.DType);
        }
        throw new KilnException(op, $"{op}: order {ord} is not a matrix norm (use 1, -1, 2, -2, inf, -inf, \"fro\" or \"nuc\")");
    }

    /// <summary>The Frobenius ("fro") or nuclear ("nuc") norm of each matrix over <paramref name="dims"/> (the last two by default) (<c>torch.linalg.matrix_norm</c>).</summary>
    public static Tensor MatrixNorm(Tensor x, string ord = "fro", int[]? dims = null, bool keepDim = false)
    {
        const string op = "linalg.matrix_norm";
        var (rows, columns) = MatrixDims(op, x, dims);
        if (ord == "fro") return x.Norm(2, [rows, columns], keepDim);
        if (ord != "nuc") throw new KilnException(op, $"{op}: unknown order '{ord}' (expected \"fro\" or \"nuc\")");
        using var s = SingularValuesOver(x, rows, columns);
        using var sum = s.Sum(-1);
        return keepDim ? KeepMatrixDims(sum, rows, columns) : sum.To(sum.DType);
    }

    static (int Rows, int Columns) MatrixDims(string op, Tensor x, int[]? dims)
    {
        dims ??= [-2, -1];
        if (dims.Length != 2)
            throw new KilnException(op, $"{op}: dim must be a 2-tuple, got {dims.Length} dims", KilnErrorKind.Shape);
        if (x.Dim < 2)
            throw new KilnException(op, $"{op}: the input must have at least 2 dimensions, got shape {ShapeText.Format(x.ShapeArray)}", KilnErrorKind.Shape);
        int rows = ShapeRules.NormalizeDim(op, dims[0], x.Dim), columns = ShapeRules.NormalizeDim(op, dims[1], x.Dim);
        if (rows == columns) throw new KilnException(op, $"{op}: dims must be different, got ({dims[0]}, {dims[1]})", KilnErrorKind.Shape);
        return (rows, columns);
    }

    /// <summary>The singular values of the matrices spanning dims <paramref name="rows"/> and <paramref name="columns"/> [..., k].</summary>
    static Tensor SingularValuesOver(Tensor x, int rows, int columns)
    {
        var order = new int[x.Dim];
        int next = 0;
        for (int d = 0; d < x.Dim; d++) if (d != rows && d != columns) order[next++] = d;
        order[next++] = rows;
        order[next] = columns;
        using var moved = x.Permute(order);
        return Svdvals(moved);
    }

    static Tensor KeepMatrixDims(Tensor reduced, int rows, int columns)
    {
        using var first = reduced.Unsqueeze(Math.Min(rows, columns));
        return first.Unsqueeze(Math.Max(rows, columns));
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    static int CheckSquare(string op, Tensor a)
    {
        CheckMatrix(op, a);
        if (a.Size(-1) != a.Size(-2))
            throw new KilnException(op, $"{op}: A must be batches of square matrices, but they are {a.Size(-2)} by {a.Size(-1)} matrices", KilnErrorKind.Shape);
        return a.Size(-1);
    }

    static void CheckMatrix(string op, Tensor a)
    {
        if (a.Dim < 2) throw new KilnException(op, $"{op}: The input tensor A must have at least 2 dimensions, got shape {ShapeText.Format(a.ShapeArray)}", KilnErrorKind.Shape);
        if (!a.DType.IsFloatingPoint()) throw new KilnException(op, $"{op}: Expected a floating point tensor as input, got {a.DType}", KilnErrorKind.DType);
    }

    /// <summary>A contiguous float64 host copy.</summary>
    static Tensor Host(Tensor a)
    {
        using var grad = GradMode.Set(false);
        using var host = a.IsCuda ? a.Cpu() : a.Alias();
        return Kernels.CopyKernel.Convert(host, DType.Float64);
    }

    static Tensor Back(Tensor f64, Tensor like)
    {
        using (f64)
        {
            using var typed = f64.To(like.DType);
            return typed.To(like.Device);
        }
    }

    static Tensor PerMatrix(string op, Tensor a, int[] outShape, Action<double[], Span<double>> body, int outputPerMatrix = -1) =>
        PerMatrix(op, a, outShape, body, outputPerMatrix, null, null).First;

    /// <summary>Runs <paramref name="body"/> on each matrix of the batch (a private double copy) into its block of the result.</summary>
    static (Tensor First, Tensor? Second) PerMatrix(string op, Tensor a, int[] outShape, Action<double[], Span<double>> body, int outputPerMatrix,
        (int[] Shape, int PerMatrix)? second, Action<double[], Span<double>, Span<double>>? both)
    {
        int m = a.Size(-2), n = a.Size(-1);
        int per = outputPerMatrix < 0 ? m * n : outputPerMatrix;
        using var a64 = Host(a);
        long count = a.Numel / Math.Max(1, (long)m * n);
        var first = Tensor.Empty(outShape, DType.Float64);
        var other = second is { } s ? Tensor.Empty(s.Shape, DType.Float64) : null;
        var src = a64.AsSpan<double>();
        var matrix = new double[m * n];
        for (long i = 0; i < count; i++)
        {
            src.Slice((int)(i * m * n), m * n).CopyTo(matrix);
            var block = first.AsSpan<double>().Slice((int)(i * per), per);
            if (both is not null) both(matrix, block, other!.AsSpan<double>().Slice((int)(i * second!.Value.PerMatrix), second.Value.PerMatrix));
            else body(matrix, block);
        }
        return (Back(first, a), other is null ? null : Back(other, a));
    }
}
