using System;
using System.Collections.Generic;
using Kiln.Compiler.Shapes;

namespace Kiln;

/// <summary>The distinct slices along a dim, in ascending lexicographic order, with where each first occurs.</summary>
/// <param name="Values">The distinct slices stacked along the dim.</param>
/// <param name="Inverse">For each slice of the input, the position of its value among <paramref name="Values"/>.</param>
/// <param name="Counts">How many input slices equal each distinct one.</param>
/// <param name="First">The input position where each distinct slice first occurs.</param>
internal readonly record struct UniqueSlices(Tensor Values, Tensor Inverse, Tensor Counts, Tensor First);

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// The distinct slices along <paramref name="dim"/> in ascending lexicographic order (<c>torch.unique(dim=...)</c>), with
    /// which of them each input slice equals (<c>return_inverse</c>, one entry per slice) and how many input slices equal
    /// each (<c>return_counts</c>).
    /// </summary>
    public (Tensor Values, Tensor Inverse, Tensor Counts) Unique(int dim)
    {
        var u = UniqueAlong("unique", dim);
        u.First.Dispose();
        return (u.Values, u.Inverse, u.Counts);
    }

    /// <summary>The work of <see cref="Unique(int)"/>, also giving each distinct slice's first position (ONNX's Unique).</summary>
    internal UniqueSlices UniqueAlong(string op, int dim)
    {
        int d = ShapeRules.NormalizeDim(op, dim, Dim);
        using var grad = GradMode.Set(false);
        using var host = IsCuda ? Cpu() : Alias();
        int n = host.Size(d);
        using var moved = host.Movedim(d, 0);
        bool floating = DType.IsFloatingPoint();
        using var keys = Kernels.CopyKernel.Convert(moved.Contiguous(), floating ? DType.Float64 : DType.Int64);
        int width = n == 0 ? 0 : checked((int)(keys.Numel / n));
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        // Lexicographic over each slice's elements, ties by position so the first of each run is where that slice first
        // occurs (NaN orders first here, .NET's comparison, and stays distinct: see SameSlice).
        if (floating) SortSlices(order, keys.Ptr<double>(), width);
        else SortSlices(order, keys.Ptr<long>(), width);
        var first = new List<long>();
        var counts = new List<long>();
        var inverse = new long[n];
        for (int i = 0; i < n; i++)
        {
            if (i == 0 || !SameSlice(keys, floating, width, order[i], order[i - 1])) { first.Add(order[i]); counts.Add(0); }
            counts[^1]++;
            inverse[order[i]] = counts.Count - 1;
        }
        var firstIndex = From(first.ToArray(), first.Count);
        using var picked = host.IndexSelect(d, firstIndex);
        var values = picked.Contiguous();
        var result = new UniqueSlices(values, From(inverse, n), From(counts.ToArray(), counts.Count), firstIndex);
        if (!IsCuda) return result;
        using (result.Values) using (result.Inverse) using (result.Counts) using (result.First)
            return new(result.Values.To(Device), result.Inverse.To(Device), result.Counts.To(Device), result.First.To(Device));
    }

    static void SortSlices<T>(int[] order, T* keys, int width) where T : unmanaged, IComparable<T> =>
        Array.Sort(order, (a, b) =>
        {
            for (int j = 0; j < width; j++)
            {
                int c = keys[(long)a * width + j].CompareTo(keys[(long)b * width + j]);
                if (c != 0) return c;
            }
            return a.CompareTo(b);
        });

    static bool SameSlice(Tensor keys, bool floating, int width, int a, int b)
    {
        for (int j = 0; j < width; j++)
        {
            if (floating)
            {
                double x = keys.Ptr<double>()[(long)a * width + j], y = keys.Ptr<double>()[(long)b * width + j];
                if (!(x == y)) return false;   // NaN is never equal: each NaN slice stays distinct, as in torch.unique
            }
            else if (keys.Ptr<long>()[(long)a * width + j] != keys.Ptr<long>()[(long)b * width + j]) return false;
        }
        return true;
    }
}
