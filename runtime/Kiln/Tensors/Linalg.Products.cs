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
            return Tensor.Cat(parts, d);
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
}
