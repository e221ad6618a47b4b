using System.Collections.Generic;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// Cumulative product along <paramref name="dim"/> (<c>torch.cumprod</c>). Built step by step from products of
    /// slices, so its gradient is exact with zeros in the input too (a division-based rule would give NaN there).
    /// </summary>
    public Tensor CumProd(int dim)
    {
        if (!DType.IsFloatingPoint() && DType != DType.Int64)
        {
            using var wide = To(DType.Int64); // integer products accumulate in int64, as in PyTorch
            return wide.CumProd(dim);
        }
        if (Dim == 0) return Clone();
        int d = ShapeRules.NormalizeDim("cumprod", dim, Dim);
        int n = _shape[d];
        if (n <= 1) return Clone();
        var parts = new List<Tensor>(n);
        try
        {
            var running = Narrow(d, 0, 1);
            parts.Add(running);
            for (int i = 1; i < n; i++)
            {
                using var slice = Narrow(d, i, 1);
                running = running.Mul(slice);
                parts.Add(running);
            }
            return Cat(parts, d);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }
}
