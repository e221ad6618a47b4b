using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Reduce;
using Kiln.NN;

namespace Kiln.Compilation;

public static partial class CompiledOps
{
    /// <summary>Softmax (or log-softmax) of x·<paramref name="scale"/> along <paramref name="dim"/>, unrecorded: a "* c" before it runs inside the row kernel.</summary>
    public static Tensor Softmax(Tensor x, int dim, bool log, float scale)
    {
        using (Autograd.NoGrad()) return x.SoftmaxImpl(log ? "log_softmax" : "softmax", dim, log, scale);
    }

    /// <summary>The input gradient of <see cref="Softmax"/> from its output (the registry's rule), times the fused scale.</summary>
    public static Tensor SoftmaxBackward(Tensor output, Tensor grad, int dim, bool log, float scale)
    {
        using var noGrad = Autograd.NoGrad();
        var g = SavedCall.Backward(log ? "log_softmax" : "softmax", [output], output, grad, new DimArgs(dim))[0]!;
        if (scale == 1) return g;
        using (g) return g * scale;
    }

    /// <summary>
    /// Cross entropy (mean over the targets that are not <paramref name="ignoreIndex"/>) of logits [N, C] or [N, C, d...]
    /// against int64 class indices, in one pass: the loss, each row's log-sum-exp (what backward reads), and the count.
    /// </summary>
    public static (Tensor Loss, Tensor Lse, long Count) CrossEntropy(Tensor logits, Tensor target, long ignoreIndex = -100)
    {
        const string op = "nll_loss";
        if (target.DType != DType.Int64 && target.DType != DType.Int32)
            throw new KilnException(op, $"{op}: expected target of integer class indices (int64), got {target.DType}", KilnErrorKind.DType);
        LayerRules.ClassTarget(op, logits.ShapeArray, target.ShapeArray);
        using var noGrad = Autograd.NoGrad();
        using var rows = ClassRows(logits);
        using var t = target.ContiguousAs(DType.Int64);
        return rows.Backend.CrossEntropyRows(rows, t, ignoreIndex);
    }

    /// <summary>The CPU form of cross entropy over contiguous float32 rows [n, classes] and int64 targets.</summary>
    internal static (Tensor Loss, Tensor Lse, long Count) CpuCrossEntropy(Tensor rows, Tensor t, long ignoreIndex)
    {
        const string op = "nll_loss";
        int classes = rows.Size(1);
        long n = rows.Size(0);
        unsafe
        {
            if (CrossEntropyKernel.FirstBadTarget(t.Ptr<long>(), n, classes, ignoreIndex) >= 0) throw F.TargetOutOfBounds(op, classes, ignoreIndex);
            var lse = Tensor.Empty(new[] { (int)n }, DType.Float32);
            var (sum, count) = CrossEntropyKernel.Forward(rows.Ptr<float>(), t.Ptr<long>(), lse.Ptr<float>(), n, classes, ignoreIndex);
            // PyTorch's mean over no kept target is 0/0.
            var loss = Tensor.Scalar((float)(sum / count));
            return (loss, lse, count);
        }
    }

    /// <summary>The CPU form of the cross-entropy rows' gradient.</summary>
    internal static Tensor CpuCrossEntropyBackward(Tensor rows, Tensor t, Tensor lse, long count, Tensor grad, long ignoreIndex)
    {
        var dRows = Tensor.Empty(rows.ShapeArray, DType.Float32);
        float scale = (float)(grad.Item<float>() / (double)count);
        unsafe { CrossEntropyKernel.Backward(rows.Ptr<float>(), t.Ptr<long>(), lse.Ptr<float>(), dRows.Ptr<float>(), rows.Size(0), rows.Size(1), ignoreIndex, scale); }
        return dRows;
    }

    /// <summary>The logits' gradient of <see cref="CrossEntropy"/> for the loss's gradient <paramref name="grad"/>.</summary>
    public static Tensor CrossEntropyBackward(Tensor logits, Tensor target, Tensor lse, long count, Tensor grad, long ignoreIndex = -100)
    {
        using var noGrad = Autograd.NoGrad();
        using var rows = ClassRows(logits);
        using var t = target.ContiguousAs(DType.Int64);
        var dRows = rows.Backend.CrossEntropyRowsBackward(rows, t, lse, count, grad, ignoreIndex);
        if (logits.Dim <= 2) return logits.Dim == 1 ? dRows.Reshape(-1) : dRows;
        // Back from [N·d..., C] rows to [N, C, d...].
        var moved = (int[])logits.ShapeArray.Clone();
        for (int i = 1; i < moved.Length - 1; i++) moved[i] = logits.Size(i + 1);
        moved[^1] = logits.Size(1);
        using (dRows)
        using (var shaped = dRows.Reshape(moved))
        using (var back = shaped.Permute(ClassOrder(logits.Dim, toLast: false))) return back.Contiguous();
    }

    /// <summary>The permutation moving dim 1 last (or, reversed, the last dim back to 1).</summary>
    static int[] ClassOrder(int rank, bool toLast)
    {
        var order = new int[rank];
        for (int i = 0; i < rank; i++) order[i] = toLast ? (i == 0 ? 0 : i == rank - 1 ? 1 : i + 1) : (i == 0 ? 0 : i == 1 ? rank - 1 : i - 1);
        return order;
    }

    /// <summary>Logits as contiguous [rows, classes] with the class dim last ([C] → [1, C]; [N, C, d...] → [N·d..., C]).</summary>
    static Tensor ClassRows(Tensor logits)
    {
        if (logits.Dim == 1) return logits.Contiguous().Reshape(1, -1);
        if (logits.Dim == 2) return logits.Contiguous();
        using var moved = logits.Permute(ClassOrder(logits.Dim, toLast: true));
        using var dense = moved.Contiguous();
        return dense.Reshape(-1, logits.Size(1));
    }
}
