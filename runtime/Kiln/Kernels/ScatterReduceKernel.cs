using System;
using Kiln.Compiler.Shapes;

namespace Kiln.Kernels;

/// <summary>The reductions of <c>scatter_reduce</c> that no add can express: product, maximum, minimum.</summary>
internal enum ScatterReduction { Prod, Amax, Amin }

/// <summary>
/// scatter_reduce's product, maximum and minimum on the host, in float64 (or int64 for integers): each destination starts
/// from self's value (or from its first source with include_self false) and folds in every source element the index sends
/// to it. NaN wins a maximum or minimum, as in torch.maximum.
/// </summary>
internal static unsafe class ScatterReduceKernel
{
    /// <summary>
    /// Folds <paramref name="src"/> into <paramref name="result"/> (both contiguous host tensors of the compute type) at
    /// <paramref name="index"/> along <paramref name="dim"/>; returns which destinations received a source element.
    /// </summary>
    public static bool[] Apply(string op, Tensor result, Tensor src, Tensor index, int dim, ScatterReduction reduction, bool includeSelf)
    {
        var walk = new IndexWalk(index.ShapeArray);
        long* ix = index.Ptr<long>();
        int size = result.Dim == 0 ? 1 : result.ShapeArray[dim];
        long[] dstStrides = result.StrideArray, srcStrides = src.StrideArray;
        var touched = new bool[result.Numel];
        bool floating = result.DType == DType.Float64;
        double* rd = floating ? result.Ptr<double>() : null;
        double* sd = floating ? src.Ptr<double>() : null;
        long* rl = floating ? null : result.Ptr<long>();
        long* sl = floating ? null : src.Ptr<long>();
        for (long n = 0; n < walk.Count; n++, walk.Next())
        {
            long k = ix[n];
            if (k < 0 || k >= size) throw new KilnException(op, $"{op}: index {k} is out of bounds for dimension {dim} with size {size}", KilnErrorKind.Index);
            long to = walk.Offset(dstStrides, dim, k), from = walk.Offset(srcStrides, -1, 0);
            bool first = !touched[to] && !includeSelf;
            touched[to] = true;
            if (floating) rd[to] = first ? sd[from] : Fold(rd[to], sd[from], reduction);
            else rl[to] = first ? sl[from] : Fold(rl[to], sl[from], reduction);
        }
        return touched;
    }

    static double Fold(double a, double b, ScatterReduction r) => r switch
    {
        ScatterReduction.Prod => a * b,
        ScatterReduction.Amax => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b),
        _ => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b),
    };

    static long Fold(long a, long b, ScatterReduction r) => r switch
    {
        ScatterReduction.Prod => a * b,
        ScatterReduction.Amax => Math.Max(a, b),
        _ => Math.Min(a, b),
    };
}
