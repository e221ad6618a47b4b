using System;
using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Onnx.Runtime;

public static partial class OnnxOps
{
    static void AddIndexing(Dictionary<string, Op> t)
    {
        t["ScatterElements"] = c =>
        {
            var x = c.In(0);
            int axis = c.Axis(c.Int("axis", 0), x.Dim);
            var idx = WrapIndices(c.In(1).To(DType.Int64), x.Size(axis));
            var updates = c.In(2);
            return c.String("reduction", "none") switch
            {
                "none" => One(x.Scatter(axis, idx, updates)),
                "add" => One(x.ScatterAdd(axis, idx, updates)),
                var r => throw c.Unsupported($"reduction '{r}'"),
            };
        };
        t["GatherND"] = c =>
        {
            var x = c.In(0);
            var idx = c.In(1).To(DType.Int64);
            int b = checked((int)c.Int("batch_dims", 0));
            var (linear, rest) = NdPositions(c, x, idx, b);
            var flat = x.Reshape([-1, .. rest]);
            var picked = flat.IndexSelect(0, linear.Reshape(-1));
            return One(picked.Reshape([.. Dims(idx)[..^1], .. rest]));
        };
        t["ScatterND"] = c =>
        {
            var x = c.In(0);
            var idx = c.In(1).To(DType.Int64);
            var updates = c.In(2);
            var (linear, rest) = NdPositions(c, x, idx, 0);
            var flat = x.Reshape([-1, .. rest]).Contiguous();
            var rows = updates.Reshape([checked((int)linear.Numel), .. rest]);
            var positions = linear.Reshape(-1);
            var result = c.String("reduction", "none") switch
            {
                "none" => flat.IndexCopy(0, positions, rows),
                "add" => flat.IndexAdd(0, positions, rows),
                "mul" => ScatterRowsProduct(flat, positions, rows),
                var r => throw c.Unsupported($"reduction '{r}'"),
            };
            return One(result.Reshape(Dims(x)));
        };
        // Scatter (opset 9-10) is ScatterElements by its old name.
        t["Scatter"] = c => t["ScatterElements"](c);
        t["Compress"] = c =>
        {
            var x = c.In(0);
            var condition = c.In(1).To(DType.Bool).Reshape(-1);
            var data = c.Has("axis") ? x : x.Reshape(-1);
            int axis = c.Has("axis") ? c.Axis(c.Int("axis", 0), x.Dim) : 0;
            if (condition.Numel > data.Size(axis)) throw c.Error($"condition has {condition.Numel} entries for a dim of {data.Size(axis)}");
            return One(data.IndexSelect(axis, condition.Nonzero().Reshape(-1)));
        };
        t["ReverseSequence"] = c =>
        {
            var x = c.In(0);
            var lengths = c.In(1).To(DType.Int64);
            int time = c.Axis(c.Int("time_axis", 0), x.Dim), batch = c.Axis(c.Int("batch_axis", 1), x.Dim);
            if (time == batch) throw c.Error("time_axis and batch_axis are the same");
            if (lengths.Dim != 1 || lengths.Size(0) != x.Size(batch)) throw c.Error($"sequence_lens [{string.Join(", ", lengths.ShapeArray)}] should be [{x.Size(batch)}]");
            // Each batch entry's first len steps reversed: step t reads len - 1 - t there, itself after.
            var shape = new int[x.Dim];
            Array.Fill(shape, 1);
            shape[time] = x.Size(time);
            var steps = Tensor.Arange(0, x.Size(time), 1, DType.Int64).Reshape(shape);
            Array.Fill(shape, 1);
            shape[batch] = x.Size(batch);
            var len = lengths.Reshape(shape);
            var source = Tensor.Where(steps.Lt(len), len - 1 - steps, steps).Expand(Dims(x));
            return One(x.Gather(time, source.Contiguous()));
        };
        t["Unique"] = c =>
        {
            var x = c.In(0);
            bool hasAxis = c.Has("axis");
            var data = hasAxis ? x : x.Reshape(-1);
            int axis = hasAxis ? c.Axis(c.Int("axis", 0), x.Dim) : 0;
            var u = data.UniqueAlong("onnx Unique", axis);
            if (c.Int("sorted", 1) != 0) return [u.Values, u.First, u.Inverse, u.Counts];
            // Unsorted: the distinct slices in the order they first occur.
            var byFirst = u.First.Sort(0).Indices;
            var rank = Tensor.ZerosLike(byFirst).Scatter(0, byFirst, Tensor.Arange(0, byFirst.Numel, 1, DType.Int64));
            return [u.Values.IndexSelect(axis, byFirst), u.First.IndexSelect(0, byFirst), rank.IndexSelect(0, u.Inverse), u.Counts.IndexSelect(0, byFirst)];
        };
        t["OneHot"] = c =>
        {
            var idx = c.In(0);
            long depth = checked((long)c.In(1).To(DType.Float64).Reshape(-1).ToArray<double>()[0]);
            var values = c.In(2);
            int rank = idx.Dim + 1;
            int axis = c.Axis(c.Int("axis", -1), rank);
            var wrapped = WrapIndices(idx.To(DType.Int64), checked((int)depth)).Unsqueeze(axis);
            var shape = new int[rank];
            Array.Fill(shape, 1);
            shape[axis] = checked((int)depth);
            var range = Tensor.Arange(0, depth, 1, DType.Int64).Reshape(shape);
            return One(Tensor.Where(wrapped.Eq(range), values.Select(0, 1), values.Select(0, 0)));
        };
        t["EyeLike"] = c =>
        {
            var x = c.In(0);
            if (x.Dim != 2) throw c.Error($"expected a 2-D input, got rank {x.Dim}");
            var dtype = c.Has("dtype") ? OnnxTensor.DTypeOf((int)c.Int("dtype", 1)) ?? throw c.Unsupported("that dtype") : x.DType;
            int k = checked((int)c.Int("k", 0)), rows = x.Size(0), cols = x.Size(1);
            var i = Tensor.Arange(0, rows, 1, DType.Int64).Reshape(rows, 1);
            var j = Tensor.Arange(0, cols, 1, DType.Int64).Reshape(1, cols);
            return One((j - i).Eq(k).To(dtype));
        };
        t["NegativeLogLikelihoodLoss"] = c => One(Nll(c, c.In(0), c.In(1)));
        t["SoftmaxCrossEntropyLoss"] = c =>
        {
            var logProb = c.In(0).LogSoftmax(1);
            var loss = Nll(c, logProb, c.In(1));
            return c.Node.Outputs.Count > 1 ? [loss, logProb] : One(loss);
        };
    }

    /// <summary>
    /// GatherND's and ScatterND's positions: each index tuple (the last dim of <paramref name="idx"/>, negative counted from
    /// the end) as a row of data seen as [prod(batch and indexed dims), rest...], with the first <paramref name="batchDims"/>
    /// dims shared by data and indices; also the rest's sizes.
    /// </summary>
    static (Tensor Linear, int[] Trailing) NdPositions(NodeContext c, Tensor x, Tensor idx, int batchDims)
    {
        int k = idx.Size(idx.Dim - 1);
        if (batchDims < 0 || batchDims >= idx.Dim || batchDims + k > x.Dim)
            throw c.Error($"index tuples of {k} with batch_dims {batchDims} for data [{string.Join(", ", x.ShapeArray)}] and indices [{string.Join(", ", idx.ShapeArray)}]");
        var dims = Dims(x);
        for (int j = 0; j < batchDims; j++)
            if (idx.Size(j) != dims[j]) throw c.Error($"batch dim {j} is {dims[j]} in data and {idx.Size(j)} in indices");
        var linear = Tensor.ZerosLike(idx.Select(idx.Dim - 1, 0));
        if (batchDims > 0)
        {
            // The batch entry's own position over the batch dims, broadcast across the index dims between.
            long batches = 1;
            for (int j = 0; j < batchDims; j++) batches *= dims[j];
            var shape = new int[idx.Dim - 1];
            Array.Fill(shape, 1);
            for (int j = 0; j < batchDims; j++) shape[j] = dims[j];
            linear = linear + Tensor.Arange(0, batches, 1, DType.Int64).Reshape(shape);
        }
        for (int j = 0; j < k; j++) linear = linear * dims[batchDims + j] + WrapIndices(idx.Select(idx.Dim - 1, j), dims[batchDims + j]);
        return (linear, dims[(batchDims + k)..]);
    }

    /// <summary>Rows of <paramref name="flat"/> at <paramref name="positions"/> multiplied by <paramref name="rows"/> in order (repeats multiply again).</summary>
    static Tensor ScatterRowsProduct(Tensor flat, Tensor positions, Tensor rows)
    {
        var result = flat.Clone();
        var at = positions.To(DType.Int64).Contiguous().ToArray<long>();
        for (int i = 0; i < at.Length; i++)
        {
            var row = result.Narrow(0, checked((int)at[i]), 1);
            row.Copy_(row * rows.Narrow(0, i, 1));
        }
        return result;
    }

    /// <summary>ONNX's NLL (and the loss part of softmax cross-entropy): PyTorch's nll_loss, with no index ignored unless asked.</summary>
    static Tensor Nll(NodeContext c, Tensor logProb, Tensor target)
    {
        var reduction = c.String("reduction", "mean") switch
        {
            "mean" => Reduction.Mean,
            "sum" => Reduction.Sum,
            "none" => Reduction.None,
            var r => throw c.Error($"reduction '{r}'"),
        };
        int ignore = c.Has("ignore_index") ? checked((int)c.Int("ignore_index", 0)) : int.MinValue;
        var weight = c.Optional(2);
        return F.NllLoss(logProb, target.To(DType.Int64), weight, ignore, reduction);
    }
}
