using System;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Normalization;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// Fused layer norm over the trailing <paramref name="d"/> elements of each row; <paramref name="weight"/> and
    /// <paramref name="bias"/> (shape of the normalised dims) are optional.
    /// </summary>
    internal static Tensor LayerNormOp(Tensor x, int d, Tensor? weight, Tensor? bias, double eps) => LayerNormOp(x, d, weight, bias, eps, null);

    /// <summary>
    /// <see cref="LayerNormOp(Tensor, int, Tensor?, Tensor?, double)"/>; with <paramref name="keepStats"/> it is unrecorded
    /// and hands the row mean and 1/std back in it (compiled models keep them for their backward).
    /// </summary>
    internal static Tensor LayerNormOp(Tensor x, int d, Tensor? weight, Tensor? bias, double eps, Tensor[]? keepStats) => LayerNormOp(x, d, weight, bias, eps, keepStats, true);

    /// <summary>
    /// <see cref="LayerNormOp(Tensor, int, Tensor?, Tensor?, double)"/>, or with <paramref name="center"/> false RMS
    /// norm (rows not centred; no mean is kept — <paramref name="keepStats"/>[0] is null).
    /// </summary>
    internal static Tensor LayerNormOp(Tensor x, int d, Tensor? weight, Tensor? bias, double eps, Tensor[]? keepStats, bool center) =>
        LayerNormOp(x, d, weight, bias, eps, keepStats, center, null);

    /// <summary>
    /// The layer or RMS norm with <paramref name="produce"/> filling each block of <paramref name="x"/> (element range) just
    /// before the block is normalised (compiled models; unrecorded, statistics kept).
    /// </summary>
    internal static Tensor LayerNormOp(Tensor x, int d, Tensor? weight, Tensor? bias, double eps, Tensor[]? keepStats, bool center, Action<long, long>? produce)
    {
        string op = center ? "layer_norm" : "rms_norm";
        if (produce is not null && keepStats is null) throw new KilnException(op, $"{op}: a produced input runs only where its statistics are kept (compiled models)");
        RequireFloat(op, x);
        long rows = d == 0 ? 0 : x.Numel / d;
        using var xc = x.ContiguousInternal();
        using var wc = weight?.ContiguousAs(x.DType);
        using var bc = bias?.ContiguousAs(x.DType);
        var y = Allocate((int[])x._shape.Clone(), x.DType);
        var mean = center ? Allocate([(int)rows], x.DType) : null;
        var rstd = Allocate([(int)rows], x.DType);
        if (x.DType == DType.Float32)
            LayerNormKernel.Forward(xc.Ptr<float>(), wc is null ? null : wc.Ptr<float>(), bc is null ? null : bc.Ptr<float>(), y.Ptr<float>(), mean is null ? null : mean.Ptr<float>(), rstd.Ptr<float>(), rows, d, eps, produce);
        else
            LayerNormKernel.Forward(xc.Ptr<double>(), wc is null ? null : wc.Ptr<double>(), bc is null ? null : bc.Ptr<double>(), y.Ptr<double>(), mean is null ? null : mean.Ptr<double>(), rstd.Ptr<double>(), rows, d, eps, produce);
        if (keepStats is not null) { keepStats[0] = mean!; keepStats[1] = rstd; return y; }
        bool needs = x.RequiresGrad || weight is { RequiresGrad: true } || bias is { RequiresGrad: true };
        if (!GradMode.Enabled || !needs) { mean?.Dispose(); rstd.Dispose(); return y; }
        // Inputs: x, weight, bias (null when absent), then the row statistics (no gradient; RMS norm keeps no mean).
        return RecordMany(op, y, new NormalizationArgs(d, HasWeight: weight is not null, HasBias: bias is not null, Eps: eps), [x, weight, bias, mean, rstd]);
    }

    /// <summary>dx, dweight, dbias of <see cref="LayerNormOp(Tensor, int, Tensor?, Tensor?, double)"/> (null where there is no weight or bias); without <paramref name="mean"/>, of RMS norm.</summary>
    internal static Tensor?[] LayerNormBackwardOp(Tensor x, Tensor? weight, bool hasBias, Tensor? mean, Tensor rstd, Tensor grad, int d)
    {
        long rows = d == 0 ? 0 : x.Numel / d;
        using var xc = x.ContiguousInternal();
        using var wc = weight?.ContiguousAs(x.DType);
        using var gc = grad.ContiguousAs(x.DType);
        var dx = Allocate((int[])x._shape.Clone(), x.DType);
        var dw = weight is null ? null : Allocate((int[])weight._shape.Clone(), x.DType);
        int[] paramShape = weight is not null ? weight._shape : x._shape[(x._shape.Length - 1)..];
        var db = hasBias ? Allocate((int[])paramShape.Clone(), x.DType) : null;
        if (x.DType == DType.Float32)
            LayerNormKernel.Backward(xc.Ptr<float>(), wc is null ? null : wc.Ptr<float>(), mean is null ? null : mean.Ptr<float>(), rstd.Ptr<float>(), gc.Ptr<float>(), dx.Ptr<float>(),
                dw is null ? null : dw.Ptr<float>(), db is null ? null : db.Ptr<float>(), rows, d);
        else
            LayerNormKernel.Backward(xc.Ptr<double>(), wc is null ? null : wc.Ptr<double>(), mean is null ? null : mean.Ptr<double>(), rstd.Ptr<double>(), gc.Ptr<double>(), dx.Ptr<double>(),
                dw is null ? null : dw.Ptr<double>(), db is null ? null : db.Ptr<double>(), rows, d);
        return [dx, dw, db];
    }
}
