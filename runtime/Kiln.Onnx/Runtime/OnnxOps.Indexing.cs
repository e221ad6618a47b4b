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
            if (c.Int("batch_dims", 0) != 0) throw c.Unsupported("batch_dims");
            int k = idx.Size(idx.Dim - 1);
            if (k > x.Dim) throw c.Error($"index tuples of {k} for data of rank {x.Dim}");
            // Linear position over data's first k dims, then one IndexSelect on data seen as [prod(first k), rest...].
            var dims = Dims(x);
            var linear = Tensor.ZerosLike(idx.Select(idx.Dim - 1, 0));
            for (int j = 0; j < k; j++) linear = linear * dims[j] + WrapIndices(idx.Select(idx.Dim - 1, j), dims[j]);
            long lead = 1;
            for (int j = 0; j < k; j++) lead *= dims[j];
            var rest = dims[k..];
            var flat = x.Reshape([checked((int)lead), .. rest]);
            var picked = flat.IndexSelect(0, linear.Reshape(-1));
            return One(picked.Reshape([.. Dims(idx)[..^1], .. rest]));
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
