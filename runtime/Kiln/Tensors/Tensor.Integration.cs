using System;
using Kiln.Compiler.Shapes;

namespace Kiln;

// The trapezoidal rule along a dim (torch.trapezoid, torch.cumulative_trapezoid), with unit or constant spacing or with
// sample points, composed of narrow, add, mul, sum and cumsum so gradients reach y and x.
public sealed partial class Tensor
{
    /// <summary>
    /// ∫ y along <paramref name="dim"/> by the trapezoidal rule with constant spacing <paramref name="dx"/>
    /// (<c>torch.trapezoid(y, dx=dx)</c>); fewer than two samples give zeros.
    /// </summary>
    public Tensor Trapezoid(double dx = 1, int dim = -1) => Trapezoids("trapezoid", null, dx, dim, cumulative: false);

    /// <summary>
    /// ∫ y along <paramref name="dim"/> by the trapezoidal rule at sample points <paramref name="x"/>: 1-D of the dim's
    /// length, or broadcastable to y (<c>torch.trapezoid(y, x)</c>).
    /// </summary>
    public Tensor Trapezoid(Tensor x, int dim = -1) => Trapezoids("trapezoid", x, 1, dim, cumulative: false);

    /// <summary>The running trapezoidal integral along <paramref name="dim"/> (one fewer element there; <c>torch.cumulative_trapezoid(y, dx=dx)</c>).</summary>
    public Tensor CumulativeTrapezoid(double dx = 1, int dim = -1) => Trapezoids("cumulative_trapezoid", null, dx, dim, cumulative: true);

    /// <summary>The running trapezoidal integral along <paramref name="dim"/> at sample points <paramref name="x"/> (<c>torch.cumulative_trapezoid(y, x)</c>).</summary>
    public Tensor CumulativeTrapezoid(Tensor x, int dim = -1) => Trapezoids("cumulative_trapezoid", x, 1, dim, cumulative: true);

    Tensor Trapezoids(string op, Tensor? x, double dx, int dim, bool cumulative)
    {
        if (Dim == 0) throw new KilnException(op, $"{op}: y must have at least one dimension", KilnErrorKind.Shape);
        int d = ShapeRules.NormalizeDim(op, dim, Dim), n = _shape[d];
        var y = DType.IsFloatingPoint() ? this : To(DTypes.Default);
        try
        {
            if (n < 2)
            {
                var shape = (int[])_shape.Clone();
                shape[d] = cumulative ? 0 : 1;
                using var zeros = Zeros(shape, y.DType, Device);
                return cumulative ? zeros.To(y.DType) : zeros.Squeeze(d);
            }
            using var left = y.Narrow(d, 0, n - 1);
            using var right = y.Narrow(d, 1, n - 1);
            using var pairs = left + right;
            Tensor areas;
            if (x is null) areas = pairs * (dx / 2);
            else
            {
                using var spacing = Spacing(op, x, d, n);
                using var half = spacing * 0.5;
                areas = pairs * half;
            }
            using (areas) return cumulative ? areas.CumSum(d) : areas.Sum([d]);
        }
        finally
        {
            if (!ReferenceEquals(y, this)) y.Dispose();
        }
    }

    /// <summary>x's differences along the integration dim, shaped to multiply y's pairs.</summary>
    Tensor Spacing(string op, Tensor x, int d, int n)
    {
        if (x.Dim == 1)
        {
            if (x._shape[0] != n)
                throw new KilnException(op, $"{op}: There must be one `x` value for each sample point, got {x._shape[0]} for {n} samples along dim {d}", KilnErrorKind.Shape);
            using var diff = x.Diff();
            var shape = new int[Dim];
            Array.Fill(shape, 1);
            shape[d] = n - 1;
            return diff.Reshape(shape);
        }
        // x broadcast against y: its differences along the same dim (counted from the end, as y's).
        int fromEnd = Dim - d;
        if (x.Dim < fromEnd || x._shape[x.Dim - fromEnd] != n)
            throw new KilnException(op, $"{op}: x {ShapeText.Format(x._shape)} must have y's {n} samples along dim {d} of y {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        return x.Diff(1, x.Dim - fromEnd);
    }
}
