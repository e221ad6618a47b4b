using System;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Attention;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// Streaming-softmax attention softmax(q·kᵀ·scale + mask)·v over the last two dims (batch dims broadcast);
    /// <paramref name="mask"/> is additive (0 or -inf for masked) and broadcastable to [..., L, S]. With
    /// <paramref name="grouped"/> k and v may have fewer heads than q (grouped-query attention): they are read in place,
    /// never repeated.
    /// </summary>
    internal static Tensor AttentionOp(Tensor q, Tensor k, Tensor v, Tensor? mask, bool causal, double scale, bool grouped = false) =>
        AttentionOp(q, k, v, mask, causal, scale, null, grouped);

    /// <summary>
    /// <see cref="AttentionOp(Tensor, Tensor, Tensor, Tensor?, bool, double, bool)"/> unrecorded, handing the row statistics
    /// (each query row's score max and exponential sum, [..., L, 2]: what its backward rebuilds the probabilities from) back
    /// in <paramref name="keepStats"/>[0] (compiled models keep them).
    /// </summary>
    internal static Tensor AttentionOp(Tensor q, Tensor k, Tensor v, Tensor? mask, bool causal, double scale, Tensor[]? keepStats, bool grouped = false)
    {
        const string op = "sdpa";
        var outShape = ShapeRules.Attention(q._shape, k._shape, v._shape, grouped, out int group);
        if (q.DType != k.DType || q.DType != v.DType || (q.DType != DType.Float32 && q.DType != DType.Float64))
            throw new KilnException(op, $"{op}: query, key and value must share a float32 or float64 dtype; got {q.DType}, {k.DType}, {v.DType}", KilnErrorKind.DType);
        int l = q._shape[^2], e = q._shape[^1], s = k._shape[^2], ev = v._shape[^1];
        var batch = outShape[..^2];
        int bh = (int)ShapeRules.Numel(batch);
        var kvBatch = KeyValueBatch(batch, group);
        using var qc = Flat(q, batch, l, e);
        using var kc = Flat(k, kvBatch, s, e);
        using var vc = Flat(v, kvBatch, s, ev);
        Tensor? maskFlat = null;
        if (mask is not null)
        {
            var full = ShapeRules.Broadcast(op, mask._shape, [.. batch, l, s]);
            if (!ShapeRules.SameShape(full, [.. batch, l, s]))
                throw new KilnException(op, $"{op}: attn_mask of shape {ShapeText.Format(mask._shape)} does not broadcast to the scores' shape {ShapeText.Format([.. batch, l, s])}", KilnErrorKind.Shape);
            bool perBatch = false;
            for (int i = 0; i < mask._shape.Length - 2; i++) perBatch |= mask._shape[i] > 1;
            using var m = mask.ToInternal(q.DType);
            maskFlat = perBatch ? Flat(m, batch, l, s) : FlatSingle(m, l, s);
        }
        var output = Allocate([.. batch, l, ev], q.DType);
        var stats = Allocate([.. batch, l, 2], q.DType);
        if (q.DType == DType.Float32) FlashAttention.Forward(MakeProblem<float>(qc, kc, vc, maskFlat, causal, scale, bh, group, l, s, e, ev), output.Ptr<float>(), stats.Ptr<float>());
        else FlashAttention.Forward(MakeProblem<double>(qc, kc, vc, maskFlat, causal, scale, bh, group, l, s, e, ev), output.Ptr<double>(), stats.Ptr<double>());
        if (keepStats is not null) { keepStats[0] = stats; maskFlat?.Dispose(); return output; }
        var args = new AttentionArgs(scale, causal, grouped);
        if (!GradMode.Enabled || !(q.RequiresGrad || k.RequiresGrad || v.RequiresGrad)) { maskFlat?.Dispose(); stats.Dispose(); return output; }
        // The row statistics ride along as a non-differentiable input so backward can rebuild probabilities. An exporter's
        // trace (never differentiated) records the mask as given, so a mask computed from the inputs stays in the graph.
        if (GradMode.Tracing && mask is not null) { maskFlat?.Dispose(); maskFlat = mask; }
        var inputs = maskFlat is null ? new[] { q, k, v, stats } : new[] { q, k, v, stats, maskFlat };
        return RecordMany(op, output, args, inputs);
    }

    /// <summary>dq, dk, dv of <see cref="AttentionOp(Tensor, Tensor, Tensor, Tensor?, bool, double, bool)"/> (reduced back to each input's batch shape).</summary>
    internal static Tensor[] AttentionBackwardOp(Tensor q, Tensor k, Tensor v, Tensor stats, Tensor? mask, Tensor output, Tensor grad, double scale, bool causal)
    {
        int l = q._shape[^2], e = q._shape[^1], s = k._shape[^2], ev = v._shape[^1];
        var batch = output._shape[..^2];
        int bh = (int)ShapeRules.Numel(batch);
        // The forward checked the shapes: k's head dim differs from the output's (and is not a broadcast 1) only when grouped.
        int group = batch.Length >= 1 && k.Dim >= 3 && k._shape[^3] != batch[^1] && k._shape[^3] != 1 ? batch[^1] / k._shape[^3] : 1;
        var kvBatch = KeyValueBatch(batch, group);
        using var qc = Flat(q, batch, l, e);
        using var kc = Flat(k, kvBatch, s, e);
        using var vc = Flat(v, kvBatch, s, ev);
        using var oc = output.ContiguousInternal();
        using var gc = grad.ContiguousAs(q.DType);
        // dk and dv per query head (each head of a group writes its own; the group is summed below, no two threads share a row).
        var dq = Allocate([.. batch, l, e], q.DType);
        var dk = Allocate([.. batch, s, e], q.DType);
        var dv = Allocate([.. batch, s, ev], q.DType);
        if (q.DType == DType.Float32)
            FlashAttention.Backward(MakeProblem<float>(qc, kc, vc, mask, causal, scale, bh, group, l, s, e, ev), oc.Ptr<float>(), stats.Ptr<float>(), gc.Ptr<float>(), dq.Ptr<float>(), dk.Ptr<float>(), dv.Ptr<float>());
        else
            FlashAttention.Backward(MakeProblem<double>(qc, kc, vc, mask, causal, scale, bh, group, l, s, e, ev), oc.Ptr<double>(), stats.Ptr<double>(), gc.Ptr<double>(), dq.Ptr<double>(), dk.Ptr<double>(), dv.Ptr<double>());
        using (GradMode.Set(false))
            return new[] { SumToOwned(dq, q._shape), SumToOwned(SumGroups(dk, group), k._shape), SumToOwned(SumGroups(dv, group), v._shape) };
    }

    /// <summary>The batch dims key and value are flattened to: the output's, with the head count divided by the group.</summary>
    static int[] KeyValueBatch(int[] batch, int group)
    {
        if (group == 1) return batch;
        var r = (int[])batch.Clone();
        r[^1] /= group;
        return r;
    }

    /// <summary>[..., heads, S, E] per query head → [..., heads / group, S, E]: each key/value head's gradient summed over its group.</summary>
    static Tensor SumGroups(Tensor t, int group)
    {
        if (group == 1) return t;
        var sh = t._shape;
        using var split = t.Reshape([.. sh[..^3], sh[^3] / group, group, sh[^2], sh[^1]]);
        var summed = split.Sum([sh.Length - 2]);
        t.Dispose();
        return summed;
    }

    static Tensor SumToOwned(Tensor t, int[] shape)
    {
        if (ShapeRules.SameShape(t._shape, shape)) return t;
        var r = TensorAlgebra.Instance.SumTo(t, shape);
        t.Dispose();
        return r;
    }

    static FlashAttention.Problem<T> MakeProblem<T>(Tensor q, Tensor k, Tensor v, Tensor? mask, bool causal, double scale, int bh, int group, int l, int s, int e, int ev)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => new()
        {
            BH = bh,
            Group = group,
            L = l,
            S = s,
            E = e,
            Ev = ev,
            Scale = T.CreateTruncating(scale),
            Causal = causal,
            Q = q.Ptr<T>(),
            K = k.Ptr<T>(),
            V = v.Ptr<T>(),
            Mask = mask is null ? null : mask.Ptr<T>(),
            MaskPerBatch = mask is not null && mask.Dim > 2,
        };

    /// <summary>The tensor expanded to [batch..., rows, cols] and made contiguous (unrecorded).</summary>
    static Tensor Flat(Tensor t, int[] batch, int rows, int cols)
    {
        using (GradMode.Set(false))
        {
            using var ex = t.Alias().Expand([.. batch, rows, cols]);
            using var c = ex.ContiguousInternal();
            return c.Alias();
        }
    }

    /// <summary>A mask with no batch extent as a contiguous [L, S] matrix.</summary>
    static Tensor FlatSingle(Tensor m, int l, int s)
    {
        using (GradMode.Set(false))
        {
            int r = m._shape.Length;
            int rows = r >= 2 ? m._shape[^2] : 1, cols = r >= 1 ? m._shape[^1] : 1;
            using var two = m.Alias().Reshape(rows, cols);
            using var ex = two.Expand(l, s);
            return ex.ContiguousInternal();
        }
    }
}
