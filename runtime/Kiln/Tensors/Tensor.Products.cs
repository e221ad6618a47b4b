using System;
using System.Collections.Generic;
using Kiln.Compiler.Shapes;

namespace Kiln;

// The named products PyTorch offers beside matmul (dot, mv, mm, inner, tensordot, kron) and the add-and-scale forms (baddbmm, addmv,
// addr), each checked for its own ranks and then computed by matmul, bmm, outer or a broadcast product.
public sealed partial class Tensor
{
    /// <summary>The dot product of two 1-D tensors of the same length (<c>torch.dot</c>).</summary>
    public Tensor Dot(Tensor other)
    {
        const string op = "dot";
        if (Dim != 1 || other.Dim != 1)
            throw new KilnException(op, $"{op}: 1D tensors expected, but got {ShapeText.Format(_shape)} and {ShapeText.Format(other._shape)}", KilnErrorKind.Shape);
        if (_shape[0] != other._shape[0])
            throw new KilnException(op, $"{op}: inconsistent tensor size, expected tensor [{_shape[0]}] and src [{other._shape[0]}] to have the same number of elements", KilnErrorKind.Shape);
        return Matmul(other);
    }

    /// <summary>Matrix times vector: [n, m] · [m] → [n] (<c>torch.mv</c>).</summary>
    public Tensor Mv(Tensor vec)
    {
        const string op = "mv";
        if (Dim != 2 || vec.Dim != 1)
            throw new KilnException(op, $"{op}: expected a matrix and a vector, got {ShapeText.Format(_shape)} and {ShapeText.Format(vec._shape)}", KilnErrorKind.Shape);
        return Matmul(vec);
    }

    /// <summary>Matrix product of two 2-D tensors, no broadcasting (<c>torch.mm</c>).</summary>
    public Tensor Mm(Tensor other)
    {
        const string op = "mm";
        if (Dim != 2 || other.Dim != 2)
            throw new KilnException(op, $"{op}: expected 2-D matrices, got {ShapeText.Format(_shape)} and {ShapeText.Format(other._shape)}", KilnErrorKind.Shape);
        return Matmul(other);
    }

    /// <summary>
    /// Sum of products over the last dims (<c>torch.inner</c>): [a.., k] and [b.., k] give [a.., b..]; a scalar operand
    /// multiplies.
    /// </summary>
    public Tensor Inner(Tensor other)
    {
        using var scope = Tensor.Scope();
        const string op = "inner";
        if (Dim == 0 || other.Dim == 0) return scope.Keep(Mul(other));
        int k = _shape[^1];
        if (other._shape[^1] != k)
            throw new KilnException(op, $"{op}: the last dimensions must match, got {ShapeText.Format(_shape)} and {ShapeText.Format(other._shape)}", KilnErrorKind.Shape);
        using var rows = Reshape(-1, k);
        using var cols = other.Reshape(-1, k);
        using var product = rows.Matmul(cols.T);
        return scope.Keep(product.Reshape([.. _shape[..^1], .. other._shape[..^1]]));
    }

    /// <summary>
    /// Sums of products over the last <paramref name="dims"/> dims of this tensor and the first <paramref name="dims"/> of
    /// <paramref name="other"/> (<c>torch.tensordot(a, b, dims=n)</c>): [a.., k..] and [k.., b..] give [a.., b..].
    /// </summary>
    public Tensor Tensordot(Tensor other, int dims = 2)
    {
        using var scope = Tensor.Scope();
        if (dims < 0 || dims > Dim || dims > other.Dim)
            throw new KilnException("tensordot", $"tensordot: dims must be in [0, {Math.Min(Dim, other.Dim)}] for {ShapeText.Format(_shape)} and {ShapeText.Format(other._shape)}, got {dims}", KilnErrorKind.Argument);
        var mine = new int[dims];
        var theirs = new int[dims];
        for (int i = 0; i < dims; i++) { mine[i] = Dim - dims + i; theirs[i] = i; }
        return scope.Keep(Tensordot(other, mine, theirs));
    }

    /// <summary>
    /// Sums of products over the paired dims <paramref name="dimsA"/> of this tensor and <paramref name="dimsB"/> of
    /// <paramref name="other"/> (<c>torch.tensordot(a, b, dims=([..], [..]))</c>): the result has this tensor's other dims,
    /// then the other's, in order.
    /// </summary>
    public Tensor Tensordot(Tensor other, int[] dimsA, int[] dimsB)
    {
        using var scope = Tensor.Scope();
        const string op = "tensordot";
        if (dimsA.Length != dimsB.Length)
            throw new KilnException(op, $"{op}: both dimension lists should have the same length, got {dimsA.Length} and {dimsB.Length}", KilnErrorKind.Argument);
        var contractA = new bool[Dim];
        var contractB = new bool[other.Dim];
        var a = new int[dimsA.Length];
        var b = new int[dimsB.Length];
        long k = 1;
        for (int i = 0; i < dimsA.Length; i++)
        {
            a[i] = ShapeRules.NormalizeDim(op, dimsA[i], Dim);
            b[i] = ShapeRules.NormalizeDim(op, dimsB[i], other.Dim);
            if (contractA[a[i]] || contractB[b[i]])
                throw new KilnException(op, $"{op}: a dimension appears twice in ([{string.Join(", ", dimsA)}], [{string.Join(", ", dimsB)}])", KilnErrorKind.Argument);
            contractA[a[i]] = true; contractB[b[i]] = true;
            if (_shape[a[i]] != other._shape[b[i]])
                throw new KilnException(op, $"{op}: contracted dimensions need to match, but first has size {_shape[a[i]]} in dim {a[i]} and second has size {other._shape[b[i]]} in dim {b[i]}", KilnErrorKind.Shape);
            k *= _shape[a[i]];
        }
        // [free a.., contracted in a's list order] · [contracted in the same order, free b..], as one matrix product.
        var permA = new List<int>();
        var freeA = new List<int>();
        for (int d = 0; d < Dim; d++) if (!contractA[d]) { permA.Add(d); freeA.Add(_shape[d]); }
        permA.AddRange(a);
        var permB = new List<int>(b);
        var freeB = new List<int>();
        for (int d = 0; d < other.Dim; d++) if (!contractB[d]) { permB.Add(d); freeB.Add(other._shape[d]); }
        long m = 1, n = 1;
        foreach (int s in freeA) m *= s;
        foreach (int s in freeB) n *= s;
        using var left = Permute([.. permA]);
        using var right = other.Permute([.. permB]);
        using var matrixA = left.Reshape((int)m, (int)k);
        using var matrixB = right.Reshape((int)k, (int)n);
        using var product = matrixA.Matmul(matrixB);
        return scope.Keep(product.Reshape([.. freeA, .. freeB]));
    }

    /// <summary>
    /// The Kronecker product (<c>torch.kron</c>): blocks a[i]·b laid out so that each dim has size a.size·b.size; the
    /// shorter shape is padded with leading 1s.
    /// </summary>
    public Tensor Kron(Tensor other)
    {
        using var scope = Tensor.Scope();
        int rank = Math.Max(Dim, other.Dim);
        var aShape = new int[2 * rank];
        var bShape = new int[2 * rank];
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int sa = i < rank - Dim ? 1 : _shape[i - (rank - Dim)];
            int sb = i < rank - other.Dim ? 1 : other._shape[i - (rank - other.Dim)];
            // a as [a0, 1, a1, 1, ..] and b as [1, b0, 1, b1, ..]: their product's pairs of dims merge into a·b sizes.
            aShape[2 * i] = sa; aShape[2 * i + 1] = 1;
            bShape[2 * i] = 1; bShape[2 * i + 1] = sb;
            result[i] = sa * sb;
        }
        using var a = Reshape(aShape);
        using var b = other.Reshape(bShape);
        using var blocks = a.Mul(b);
        return scope.Keep(blocks.Reshape(result));
    }

    /// <summary>beta·input + alpha·(b1 @ b2) for batches of matrices [B, n, k] and [B, k, m] (<c>torch.baddbmm</c>).</summary>
    public static Tensor Baddbmm(Tensor input, Tensor batch1, Tensor batch2, double beta = 1, double alpha = 1)
    {
        using var product = batch1.Bmm(batch2);
        return ScaledSum("baddbmm", input, product, beta, alpha);
    }

    /// <summary>beta·input + alpha·Σ_b (b1[b] @ b2[b]): the batch of products summed (<c>torch.addbmm</c>).</summary>
    public static Tensor Addbmm(Tensor input, Tensor batch1, Tensor batch2, double beta = 1, double alpha = 1)
    {
        using var products = batch1.Bmm(batch2);
        using var summed = products.Sum([0]);
        return ScaledSum("addbmm", input, summed, beta, alpha);
    }

    /// <summary>beta·input + alpha·(mat @ vec) (<c>torch.addmv</c>).</summary>
    public static Tensor Addmv(Tensor input, Tensor mat, Tensor vec, double beta = 1, double alpha = 1)
    {
        using var product = mat.Mv(vec);
        return ScaledSum("addmv", input, product, beta, alpha);
    }

    /// <summary>beta·input + alpha·outer(vec1, vec2) (<c>torch.addr</c>).</summary>
    public static Tensor Addr(Tensor input, Tensor vec1, Tensor vec2, double beta = 1, double alpha = 1)
    {
        using var product = vec1.Outer(vec2);
        return ScaledSum("addr", input, product, beta, alpha);
    }

    /// <summary>beta·input + alpha·product, input broadcast to the product's shape; beta 0 ignores input (NaN in it too), as PyTorch.</summary>
    static Tensor ScaledSum(string op, Tensor input, Tensor product, double beta, double alpha)
    {
        var shape = ShapeRules.Broadcast(op, input._shape, product._shape);
        if (!ShapeRules.SameShape(shape, product._shape))
            throw new KilnException(op, $"{op}: input of shape {ShapeText.Format(input._shape)} cannot be broadcast to the product's shape {ShapeText.Format(product._shape)}", KilnErrorKind.Shape);
        using var scaled = alpha == 1 ? product.To(product.DType) : product.Mul(alpha);
        if (beta == 0) return scaled.To(scaled.DType);
        using var bias = beta == 1 ? input.To(input.DType) : input.Mul(beta);
        return bias.Add(scaled);
    }

    /// <summary>The cross product of 3-vectors along <paramref name="dim"/> (<c>torch.cross</c> with a dim; see <see cref="Linalg.Cross"/>).</summary>
    public Tensor Cross(Tensor other, int dim = -1) => Linalg.Cross(this, other, dim);

    /// <summary>This square matrix to an integer power (<c>torch.matrix_power</c>; see <see cref="Linalg.MatrixPower"/>).</summary>
    public Tensor MatrixPower(int n) => Linalg.MatrixPower(this, n);
}
