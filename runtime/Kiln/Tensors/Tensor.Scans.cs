using System.Collections.Generic;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// The <paramref name="n"/>-th forward difference along <paramref name="dim"/> (<c>torch.diff</c>): out[i] = x[i+1] - x[i],
    /// repeated n times, after <paramref name="prepend"/> and <paramref name="append"/> are joined on; bool tensors give
    /// x[i+1] != x[i].
    /// </summary>
    public Tensor Diff(int n = 1, int dim = -1, Tensor? prepend = null, Tensor? append = null)
    {
        const string op = "diff";
        if (Dim == 0) throw new KilnException(op, "diff: expects input to be at least one-dimensional", KilnErrorKind.Shape);
        if (n < 0) throw new KilnException(op, $"diff: order must be non-negative but got {n}");
        int d = ShapeRules.NormalizeDim(op, dim, Dim);
        Tensor x = prepend is null && append is null ? Clone() : Cat(prepend is null ? [this, append!] : append is null ? [prepend, this] : [prepend, this, append], d);
        for (int k = 0; k < n && x.Size(d) > 0; k++)
        {
            int len = x.Size(d) - 1;
            using var later = x.Narrow(d, 1, len);
            using var earlier = x.Narrow(d, 0, len);
            var next = x.DType == DType.Bool ? later.Ne(earlier) : later - earlier;
            x.Dispose();
            x = next;
        }
        return x;
    }

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
