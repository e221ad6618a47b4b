using System;
using System.Numerics;
using Kiln.Compiler.Ops;
using Kiln.Kernels.Normalization;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// Fused batch norm over [N, C, *] (float32/float64, shapes checked by the caller): normalises with the batch's statistics
    /// when <paramref name="training"/> or without running statistics (updating the running ones in training), else with the
    /// running ones; recorded as one op whose backward is one pass per channel.
    /// </summary>
    internal static Tensor BatchNormOp(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training, double momentum, double eps)
    {
        RequireFloat("batch_norm", x);
        bool useBatch = training || runningMean is null || runningVar is null;
        using var xc = x.ContiguousInternal();
        var (mean, rstd) = BatchNormStatistics(xc, runningMean, runningVar, useBatch, training, momentum, eps);
        var y = BatchNormNormalize(xc, mean, rstd, weight, bias);
        bool needs = x.RequiresGrad || weight is { RequiresGrad: true } || bias is { RequiresGrad: true };
        if (!GradMode.Enabled || !needs) { mean.Dispose(); rstd.Dispose(); return y; }
        // Inputs: x, weight, bias (null when absent), then the per-channel statistics (no gradient).
        return RecordMany("batch_norm", y, new BatchNormArgs(weight is not null, bias is not null, useBatch, eps), [x, weight, bias, mean, rstd]);
    }

    /// <summary>
    /// The per-channel mean and 1/σ a batch norm of contiguous <paramref name="xc"/> normalises with: the batch's own (biased
    /// variance; with <paramref name="update"/> the running statistics move toward them, the variance stored unbiased) or,
    /// without <paramref name="useBatch"/>, the running ones. Unrecorded.
    /// </summary>
    internal static (Tensor Mean, Tensor Rstd) BatchNormStatistics(Tensor xc, Tensor? runningMean, Tensor? runningVar, bool useBatch, bool update, double momentum, double eps)
    {
        int n = xc._shape[0], c = xc._shape[1];
        long s = xc.Numel / Math.Max(1L, (long)n * c);
        var mean = Allocate([c], xc.DType);
        var rstd = Allocate([c], xc.DType);
        if (useBatch)
        {
            using var variance = Allocate([c], xc.DType);
            if (xc.DType == DType.Float32) BatchNormKernel.Statistics(xc.Ptr<float>(), n, c, s, mean.Ptr<float>(), variance.Ptr<float>(), rstd.Ptr<float>(), eps);
            else BatchNormKernel.Statistics(xc.Ptr<double>(), n, c, s, mean.Ptr<double>(), variance.Ptr<double>(), rstd.Ptr<double>(), eps);
            if (update && runningMean is not null && runningVar is not null)
                NN.F.UpdateRunningStats(runningMean, runningVar, mean, variance, (long)n * s, momentum);
            return (mean, rstd);
        }
        using var rm = runningMean!.ContiguousAs(xc.DType);
        using var rv = runningVar!.ContiguousAs(xc.DType);
        if (xc.DType == DType.Float32) FromRunning(rm.Ptr<float>(), rv.Ptr<float>(), mean.Ptr<float>(), rstd.Ptr<float>(), c, eps);
        else FromRunning(rm.Ptr<double>(), rv.Ptr<double>(), mean.Ptr<double>(), rstd.Ptr<double>(), c, eps);
        return (mean, rstd);
    }

    /// <summary>The running mean copied and 1/sqrt(running var + eps) formed in double, as PyTorch's CPU kernel does.</summary>
    static void FromRunning<T>(T* rm, T* rv, T* mean, T* rstd, int c, double eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int ch = 0; ch < c; ch++)
        {
            mean[ch] = rm[ch];
            rstd[ch] = T.CreateTruncating(1 / Math.Sqrt(double.CreateTruncating(rv[ch]) + eps));
        }
    }

    /// <summary>(x - mean)·rstd·weight + bias per channel of contiguous <paramref name="xc"/>, unrecorded.</summary>
    internal static Tensor BatchNormNormalize(Tensor xc, Tensor mean, Tensor rstd, Tensor? weight, Tensor? bias)
    {
        int n = xc._shape[0], c = xc._shape[1];
        long s = xc.Numel / Math.Max(1L, (long)n * c);
        using var wc = weight?.ContiguousAs(xc.DType);
        using var bc = bias?.ContiguousAs(xc.DType);
        var y = Allocate((int[])xc._shape.Clone(), xc.DType);
        if (xc.DType == DType.Float32)
            BatchNormKernel.Normalize(xc.Ptr<float>(), y.Ptr<float>(), n, c, s, mean.Ptr<float>(), rstd.Ptr<float>(), wc is null ? null : wc.Ptr<float>(), bc is null ? null : bc.Ptr<float>());
        else
            BatchNormKernel.Normalize(xc.Ptr<double>(), y.Ptr<double>(), n, c, s, mean.Ptr<double>(), rstd.Ptr<double>(), wc is null ? null : wc.Ptr<double>(), bc is null ? null : bc.Ptr<double>());
        return y;
    }

    /// <summary>dx (when <paramref name="needInput"/>), dweight and dbias (null without them) of a batch norm, one pass per channel.</summary>
    internal static Tensor?[] BatchNormBackwardOp(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, bool batchStatistics, bool needInput)
    {
        int n = x._shape[0], c = x._shape[1];
        long s = x.Numel / Math.Max(1L, (long)n * c);
        using var xc = x.ContiguousInternal();
        using var gc = grad.ContiguousAs(x.DType);
        using var wc = weight?.ContiguousAs(x.DType);
        var dx = needInput ? Allocate((int[])x._shape.Clone(), x.DType) : null;
        var dw = weight is null ? null : Allocate([c], x.DType);
        var db = hasBias ? Allocate([c], x.DType) : null;
        if (x.DType == DType.Float32)
            BatchNormKernel.Backward(xc.Ptr<float>(), gc.Ptr<float>(), dx is null ? null : dx.Ptr<float>(), n, c, s, mean.Ptr<float>(), rstd.Ptr<float>(),
                wc is null ? null : wc.Ptr<float>(), dw is null ? null : dw.Ptr<float>(), db is null ? null : db.Ptr<float>(), batchStatistics);
        else
            BatchNormKernel.Backward(xc.Ptr<double>(), gc.Ptr<double>(), dx is null ? null : dx.Ptr<double>(), n, c, s, mean.Ptr<double>(), rstd.Ptr<double>(),
                wc is null ? null : wc.Ptr<double>(), dw is null ? null : dw.Ptr<double>(), db is null ? null : db.Ptr<double>(), batchStatistics);
        return [dx, dw, db];
    }

    /// <summary>
    /// The gradients of <see cref="BatchNormOp"/> as recorded ops (for createGraph): with the batch's statistics they are
    /// recomputed from <paramref name="x"/> so that the second derivative sees their dependence on it.
    /// </summary>
    internal static Tensor?[] BatchNormBackwardRecorded(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, bool batchStatistics, double eps)
    {
        var dims = new int[x.Dim - 1];
        for (int i = 1; i < dims.Length; i++) dims[i] = i + 1;
        var channel = new int[x.Dim];
        Array.Fill(channel, 1);
        channel[1] = x._shape[1];
        Tensor xhat, r;
        if (batchStatistics)
        {
            var centered = x - x.Mean(dims, keepDim: true);
            r = ((centered * centered).Mean(dims, keepDim: true) + eps).Rsqrt();
            xhat = centered * r;
        }
        else
        {
            r = rstd.Reshape(channel);
            xhat = (x - mean.Reshape(channel)) * r;
        }
        var gw = weight is null ? grad : grad * weight.Reshape(channel);
        var dx = batchStatistics ? (gw - gw.Mean(dims, keepDim: true) - xhat * (gw * xhat).Mean(dims, keepDim: true)) * r : gw * r;
        return [dx, weight is null ? null : (grad * xhat).Sum(dims), hasBias ? grad.Sum(dims) : null];
    }
}
