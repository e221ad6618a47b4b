using System;
using System.Collections.Generic;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static void AddReduce(Dictionary<string, Op> t)
    {
        void Reduce(string name, Func<Tensor, int[], bool, Tensor> f, int axesInputFrom) => t[name] = c =>
        {
            var x = c.In(0);
            long[]? axes = c.Opset >= axesInputFrom ? (c.Optional(1) is { } a ? c.Longs(a) : null) : c.Ints("axes");
            bool keep = c.Int("keepdims", 1) != 0;
            if (axes is null || axes.Length == 0)
            {
                if (c.Int("noop_with_empty_axes", 0) != 0) return One(x);
                axes = new long[x.Dim];
                for (int i = 0; i < axes.Length; i++) axes[i] = i;
            }
            var dims = new int[axes.Length];
            for (int i = 0; i < dims.Length; i++) dims[i] = c.Axis(axes[i], x.Dim);
            if (x.Dim == 0) return One(x);
            return One(f(x, dims, keep));
        };
        Reduce("ReduceSum", (x, d, k) => x.Sum(d, k, x.DType), 13);
        Reduce("ReduceMean", (x, d, k) => x.Mean(d, k), 18);
        Reduce("ReduceMax", (x, d, k) => Fold(x, d, k, (v, dim) => v.Max(dim, true).Values), 18);
        Reduce("ReduceMin", (x, d, k) => Fold(x, d, k, (v, dim) => v.Min(dim, true).Values), 18);
        Reduce("ReduceProd", (x, d, k) => Fold(x, d, k, (v, dim) => v.Prod(dim, true)), 18);
        Reduce("ReduceL1", (x, d, k) => x.Abs().Sum(d, k, x.DType), 18);
        Reduce("ReduceL2", (x, d, k) => (x * x).Sum(d, k, x.DType).Sqrt(), 18);
        Reduce("ReduceSumSquare", (x, d, k) => (x * x).Sum(d, k, x.DType), 18);
        Reduce("ReduceLogSum", (x, d, k) => x.Sum(d, k, x.DType).Log(), 18);
        Reduce("ReduceLogSumExp", (x, d, k) => x.DType.IsFloatingPoint() ? x.LogSumExp(d, k) : x.To(DType.Float64).LogSumExp(d, k).To(x.DType), 18);

        void Arg(string name, bool max) => t[name] = c =>
        {
            var x = c.In(0);
            int axis = c.Axis(c.Int("axis", 0), x.Dim);
            bool keep = c.Int("keepdims", 1) != 0;
            var v = x;
            // select_last_index: the last of equal extremes, found as the first in the flipped axis.
            bool last = c.Int("select_last_index", 0) != 0;
            if (last) v = v.Flip(axis);
            var i = max ? v.ArgMax(axis, keep) : v.ArgMin(axis, keep);
            if (last) i = (i.Neg() + (x.Size(axis) - 1));
            return One(i.To(DType.Int64));
        };
        Arg("ArgMax", true);
        Arg("ArgMin", false);

        void Softmaxes(string name, Func<Tensor, int, Tensor> f) => t[name] = c =>
        {
            var x = c.In(0);
            if (c.Opset >= 13) return One(f(x, c.Axis(c.Int("axis", -1), x.Dim)));
            // Before opset 13 the input is seen as 2-D: dims before axis are rows, the rest one row's entries.
            int axis = c.Axis(c.Int("axis", 1), x.Dim);
            long rows = 1;
            for (int i = 0; i < axis; i++) rows *= x.Size(i);
            var flat = x.Reshape(checked((int)rows), checked((int)(x.Numel / Math.Max(1, rows))));
            return One(f(flat, 1).Reshape(Dims(x)));
        };
        Softmaxes("Softmax", (x, d) => x.Softmax(d));
        Softmaxes("LogSoftmax", (x, d) => x.LogSoftmax(d));
        Softmaxes("Hardmax", (x, d) =>
        {
            var idx = x.ArgMax(d, true);
            return Tensor.ZerosLike(x).Scatter(d, idx, Tensor.OnesLike(x));
        });
        t["TopK"] = c =>
        {
            var x = c.In(0);
            int k = checked((int)(c.Opset >= 10 ? c.Longs(c.In(1))[0] : c.Int("k", 1)));
            int axis = c.Axis(c.Int("axis", -1), x.Dim);
            var r = x.TopK(k, axis, c.Int("largest", 1) != 0);
            return [r.Values, r.Indices.To(DType.Int64)];
        };
    }

    /// <summary>A reduction that takes one dim at a time (max, min, prod), applied over several.</summary>
    static Tensor Fold(Tensor x, int[] dims, bool keep, Func<Tensor, int, Tensor> one)
    {
        var sorted = (int[])dims.Clone();
        Array.Sort(sorted);
        var r = x;
        foreach (var d in sorted) r = one(r, d);
        if (!keep) for (int i = sorted.Length - 1; i >= 0; i--) r = r.Squeeze(sorted[i]);
        return r;
    }
}
