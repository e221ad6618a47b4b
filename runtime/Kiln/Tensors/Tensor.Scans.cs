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

    /// <summary>
    /// Running maximum along <paramref name="dim"/> and where it was found (<c>torch.cummax</c>): ties and NaN take the later
    /// index, and a NaN carries on. The gradient goes to the element each output came from.
    /// </summary>
    public ValuesIndices Cummax(int dim) => CumulativeExtreme("cummax", dim, max: true);

    /// <summary>Running minimum along <paramref name="dim"/> and where it was found (<c>torch.cummin</c>).</summary>
    public ValuesIndices Cummin(int dim) => CumulativeExtreme("cummin", dim, max: false);

    ValuesIndices CumulativeExtreme(string op, int dim, bool max)
    {
        int d = ShapeRules.NormalizeDim(op, dim, System.Math.Max(Dim, 1));
        Tensor indices;
        using (GradMode.Set(false))
        {
            if (Dim == 0) indices = Zeros([], DType.Int64, Device);
            else
            {
                // Hillis-Steele doubling over (value, index) pairs: log2(n) whole-tensor steps, so it runs as-is on a device.
                using var start = DType == DType.Bool ? To(DType.UInt8) : Detach();
                var values = start.Contiguous();
                indices = PositionsAlong(d);
                int n = _shape[d];
                for (int s = 1; s < n; s *= 2)
                {
                    using var earlierV = values.Narrow(d, 0, n - s);
                    using var laterV = values.Narrow(d, s, n - s);
                    using var earlierI = indices.Narrow(d, 0, n - s);
                    using var laterI = indices.Narrow(d, s, n - s);
                    // The later segment wins when it holds a NaN, or beats or ties the earlier one and that holds none.
                    using var beats = max ? laterV.Ge(earlierV) : laterV.Le(earlierV);
                    using var earlierNan = earlierV.IsNan();
                    using var earlierClean = earlierNan.LogicalNot();
                    using var cleanWin = beats.BitwiseAnd(earlierClean);
                    using var laterNan = laterV.IsNan();
                    using var later = laterNan.BitwiseOr(cleanWin);
                    using var tailV = Where(later, laterV, earlierV);
                    using var tailI = Where(later, laterI, earlierI);
                    using var headV = values.Narrow(d, 0, s);
                    using var headI = indices.Narrow(d, 0, s);
                    var nextV = Cat([headV, tailV], d);
                    var nextI = Cat([headI, tailI], d);
                    values.Dispose(); indices.Dispose();
                    values = nextV; indices = nextI;
                }
                values.Dispose();
            }
        }
        // The values are gathered from the input, so the gradient scatters back to where each came from.
        return new ValuesIndices(Gather(d, indices), indices);
    }

    /// <summary>int64 positions 0..n-1 along <paramref name="dim"/>, broadcast to this shape (contiguous, on this device).</summary>
    Tensor PositionsAlong(int dim)
    {
        var view = new int[Dim];
        for (int i = 0; i < view.Length; i++) view[i] = i == dim ? _shape[dim] : 1;
        using var range = Arange(_shape[dim]);
        using var onDevice = range.To(Device);
        using var laid = onDevice.Reshape(view);
        using var spread = laid.Expand(_shape);
        return spread.Contiguous();
    }

    /// <summary>
    /// log(cumsum(exp(x))) along <paramref name="dim"/> without overflow (<c>torch.logcumsumexp</c>): log2(n) steps of
    /// pairwise logaddexp, each stable, whose gradients are softmax-weighted as PyTorch's.
    /// </summary>
    public Tensor Logcumsumexp(int dim)
    {
        const string op = "logcumsumexp";
        if (!DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: expected a floating point input, got {DType}", KilnErrorKind.DType);
        int d = ShapeRules.NormalizeDim(op, dim, System.Math.Max(Dim, 1));
        if (Dim == 0) return Clone();
        int n = _shape[d];
        var y = Clone();
        for (int s = 1; s < n; s *= 2)
        {
            using var head = y.Narrow(d, 0, s);
            using var earlier = y.Narrow(d, 0, n - s);
            using var later = y.Narrow(d, s, n - s);
            using var tail = later.Logaddexp(earlier);
            var next = Cat([head, tail], d);
            y.Dispose();
            y = next;
        }
        return y;
    }
}
