using Kiln.Compiler.Shapes;

namespace Kiln;

// Products in torch.linalg built from tensor ops (so they run on any device and differentiate through those ops).
public static partial class Linalg
{
    /// <summary>
    /// The cross product of 3-vectors along <paramref name="dim"/> (<c>torch.linalg.cross</c>); the other dims broadcast.
    /// </summary>
    public static Tensor Cross(Tensor a, Tensor b, int dim = -1)
    {
        using var scope = Tensor.Scope();
        const string op = "linalg.cross";
        if (a.Dim != b.Dim)
            throw new KilnException(op, $"{op}: inputs must have the same number of dimensions, got {ShapeText.Format(a.ShapeArray)} and {ShapeText.Format(b.ShapeArray)}", KilnErrorKind.Shape);
        int d = ShapeRules.NormalizeDim(op, dim, a.Dim);
        if (a.Size(d) != 3 || b.Size(d) != 3)
            throw new KilnException(op, $"{op}: inputs dimension {d} must have length 3, got {ShapeText.Format(a.ShapeArray)} and {ShapeText.Format(b.ShapeArray)}", KilnErrorKind.Shape);
        var parts = new Tensor[3];
        try
        {
            for (int i = 0; i < 3; i++)
            {
                // c_i = a_j·b_k − a_k·b_j with (i, j, k) a cyclic order.
                int j = (i + 1) % 3, k = (i + 2) % 3;
                using var aj = a.Narrow(d, j, 1);
                using var bk = b.Narrow(d, k, 1);
                using var ak = a.Narrow(d, k, 1);
                using var bj = b.Narrow(d, j, 1);
                using var first = aj.Mul(bk);
                using var second = ak.Mul(bj);
                parts[i] = first.Sub(second);
            }
            return scope.Keep(Tensor.Cat(parts, d));
        }
        finally
        {
            foreach (var p in parts) p?.Dispose();
        }
    }

    /// <summary>
    /// A square matrix to an integer power (<c>torch.linalg.matrix_power</c>) by repeated squaring: 0 gives the identity,
    /// a negative power the inverse's power.
    /// </summary>
    public static Tensor MatrixPower(Tensor a, int n)
    {
        const string op = "linalg.matrix_power";
        int size = CheckSquare(op, a);
        if (n == 0)
        {
            using var eye = Tensor.Eye(size, null, a.DType);
            using var onDevice = eye.To(a.Device);
            using var spread = onDevice.Expand(a.ShapeArray);
            return spread.Contiguous();
        }
        Tensor basis = n < 0 ? Inv(a) : a.To(a.DType);
        long remaining = System.Math.Abs((long)n);
        Tensor? result = null;
        try
        {
            while (true)
            {
                if ((remaining & 1) != 0)
                {
                    var next = result is null ? basis.To(basis.DType) : result.Matmul(basis);
                    result?.Dispose();
                    result = next;
                }
                remaining >>= 1;
                if (remaining == 0) return result!;
                var squared = basis.Matmul(basis);
                basis.Dispose();
                basis = squared;
            }
        }
        finally
        {
            basis.Dispose();
        }
    }

    /// <summary>
    /// The product of a chain of matrices in the cheapest order (<c>torch.linalg.multi_dot</c>): the first may be a 1-D
    /// row vector and the last a 1-D column vector (their dims are dropped from the result, as PyTorch's).
    /// </summary>
    public static Tensor MultiDot(params Tensor[] tensors)
    {
        const string op = "linalg.multi_dot";
        int count = tensors.Length;
        if (count < 2) throw new KilnException(op, $"{op}: expected at least 2 tensors but got {count}");
        bool rowFirst = tensors[0].Dim == 1, columnLast = tensors[^1].Dim == 1;
        var matrices = new Tensor[count];
        for (int i = 0; i < count; i++)
        {
            var t = tensors[i];
            bool vectorAllowed = i == 0 || i == count - 1;
            if (t.Dim != 2 && !(vectorAllowed && t.Dim == 1))
                throw new KilnException(op, $"{op}: tensor {i} must be 2D{(vectorAllowed ? " or 1D" : "")} but got {t.Dim}D {ShapeText.Format(t.ShapeArray)}", KilnErrorKind.Shape);
            matrices[i] = t.Dim == 2 ? t : i == 0 ? t.Unsqueeze(0) : t.Unsqueeze(1);
        }
        for (int i = 1; i < count; i++)
            if (matrices[i - 1].Size(1) != matrices[i].Size(0))
                throw new KilnException(op, $"{op}: tensors {i - 1} and {i} with shapes {ShapeText.Format(tensors[i - 1].ShapeArray)} and {ShapeText.Format(tensors[i].ShapeArray)} cannot be multiplied", KilnErrorKind.Shape);
        // Matrix-chain order: cost[i, j] the fewest multiplications for matrices i..j, split[i, j] where to cut.
        var dims = new long[count + 1];
        for (int i = 0; i < count; i++) dims[i] = matrices[i].Size(0);
        dims[count] = matrices[^1].Size(1);
        var cost = new long[count, count];
        var split = new int[count, count];
        for (int length = 2; length <= count; length++)
            for (int i = 0; i + length - 1 < count; i++)
            {
                int j = i + length - 1;
                cost[i, j] = long.MaxValue;
                for (int k = i; k < j; k++)
                {
                    long c = cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1];
                    if (c < cost[i, j]) { cost[i, j] = c; split[i, j] = k; }
                }
            }
        var product = Chain(matrices, split, 0, count - 1);
        if (!rowFirst && !columnLast) return product;
        using (product)
        {
            using var row = rowFirst ? product.Squeeze(0) : product.To(product.DType);
            return columnLast ? row.Squeeze(-1) : row.To(row.DType);
        }

        static Tensor Chain(Tensor[] m, int[,] split, int i, int j)
        {
            if (i == j) return m[i].To(m[i].DType);
            using var left = Chain(m, split, i, split[i, j]);
            using var right = Chain(m, split, split[i, j] + 1, j);
            return left.Matmul(right);
        }
    }

    /// <summary>
    /// The matrix exponential e^A of each square matrix (<c>torch.linalg.matrix_exp</c>), by scaling and squaring: A/2^s
    /// with a 1-norm at most ½, its Taylor series to the dtype's precision, squared s times. Made of matrix products, so it
    /// runs on any device and is differentiable.
    /// </summary>
    public static Tensor MatrixExp(Tensor a)
    {
        const string op = "linalg.matrix_exp";
        int n = CheckSquare(op, a);
        double norm;
        using (Autograd.NoGrad())
        {
            using var magnitudes = a.Abs();
            using var columns = magnitudes.Sum(-2);       // column sums: the 1-norm is the largest
            using var largest = columns.Amax();
            using var wide = largest.To(DType.Float64);
            norm = wide.Item<double>();
        }
        int squarings = norm > 0.5 ? (int)System.Math.Ceiling(System.Math.Log2(norm / 0.5)) : 0;
        // ‖X‖ ≤ ½: the Taylor remainder after degree d is below ½^(d+1)/(d+1)!, under float64's eps at d = 18.
        int degree = a.DType == DType.Float64 ? 18 : 10;
        using var scaled = squarings > 0 ? a * System.Math.Pow(2, -squarings) : a.To(a.DType);
        using var eye = Tensor.Eye(n, null, a.DType);
        using var identity = eye.To(a.Device);
        // Horner: I + X(I + X/2(I + X/3(...))).
        Tensor sum = identity + scaled / degree;
        for (int k = degree - 1; k >= 1; k--)
        {
            using var previous = sum;
            using var term = scaled.Matmul(previous);
            using var divided = term / k;
            sum = identity + divided;
        }
        for (int i = 0; i < squarings; i++)
        {
            using var previous = sum;
            sum = previous.Matmul(previous);
        }
        return sum;
    }
}
