using System;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed partial class Tensor
{
    /// <summary>
    /// The largest value over <paramref name="dims"/> (all dims when null or empty) without indices (<c>torch.amax</c>);
    /// the gradient is shared evenly among tied maxima, as PyTorch's (where <c>Max(dim)</c> sends it to one index).
    /// </summary>
    public Tensor Amax(int[]? dims = null, bool keepDim = false) => Peak("amax", dims, keepDim, max: true);

    /// <summary>The largest value over one dim (<c>torch.amax(x, dim)</c>).</summary>
    public Tensor Amax(int dim, bool keepDim = false) => Amax([dim], keepDim);

    /// <summary>The smallest value over <paramref name="dims"/> (<c>torch.amin</c>); ties share the gradient evenly.</summary>
    public Tensor Amin(int[]? dims = null, bool keepDim = false) => Peak("amin", dims, keepDim, max: false);

    /// <summary>The smallest value over one dim (<c>torch.amin(x, dim)</c>).</summary>
    public Tensor Amin(int dim, bool keepDim = false) => Amin([dim], keepDim);

    Tensor Peak(string op, int[]? dims, bool keepDim, bool max)
    {
        var reduced = ReducedDims(op, dims);
        foreach (int d in reduced)
            if (_shape[d] == 0)
                throw new KilnException(op, $"{op}: Expected reduction dim {d} to have non-zero size (shape {ShapeText.Format(_shape)})", KilnErrorKind.Shape);
        // The peak itself, a constant: one reduction per dim, kept so it broadcasts against x.
        Tensor peak = Alias();
        using (Autograd.NoGrad())
            foreach (int d in reduced)
            {
                var (values, indices) = max ? peak.Max(d, keepDim: true) : peak.Min(d, keepDim: true);
                indices.Dispose();
                peak.Dispose();
                peak = values;
            }
        using (peak)
        {
            if (!DType.IsFloatingPoint() || !RequiresGrad || !GradMode.Enabled)
                return keepDim ? peak.Clone() : SqueezeDims(peak, reduced);
            // The gradient is shared among the ties (1/ties each), as PyTorch's. A hand-written backward rather than a
            // composite such as peak + Σ (x - peak)·tie/ties: that reads inf - inf (NaN) wherever an input is infinite.
            int[] keptShape = peak.ShapeArray;
            Tensor share;
            using (Autograd.NoGrad())
            {
                using var isTie = Eq(peak);
                using var tie = isTie.To(DType);
                using var ties = tie.Sum(reduced, keepDim: true);
                share = tie.Div(ties);
            }
            var value = keepDim ? peak.Clone() : SqueezeDims(peak, reduced);
            return Autograd.Function(op, [this], () => value, grad =>
            {
                using var spread = grad.Reshape(keptShape);
                return [spread.Mul(share)];
            });
        }
    }

    /// <summary>Dims to reduce, normalised and sorted; null or empty means all of them (PyTorch's <c>dim=()</c>).</summary>
    int[] ReducedDims(string op, int[]? dims)
    {
        if (dims is null || dims.Length == 0)
        {
            var all = new int[_shape.Length];
            for (int i = 0; i < all.Length; i++) all[i] = i;
            return all;
        }
        var r = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            r[i] = ShapeRules.NormalizeDim(op, dims[i], _shape.Length);
            for (int j = 0; j < i; j++)
                if (r[j] == r[i]) throw new KilnException(op, $"{op}: dim {r[i]} appears multiple times in the list of dims", KilnErrorKind.Argument);
        }
        Array.Sort(r);
        return r;
    }

    static Tensor SqueezeDims(Tensor t, int[] sortedDims)
    {
        var shape = new int[t._shape.Length - sortedDims.Length];
        for (int d = 0, k = 0, j = 0; d < t._shape.Length; d++)
        {
            if (j < sortedDims.Length && sortedDims[j] == d) { j++; continue; }
            shape[k++] = t._shape[d];
        }
        return t.Reshape(shape);
    }
}
