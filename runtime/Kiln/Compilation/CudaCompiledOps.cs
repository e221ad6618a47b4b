using System;
using System.Collections.Generic;
using Kiln.Kernels.Gemm;
using Kiln.NN;

namespace Kiln.Compilation;

/// <summary>
/// The CUDA forms of the producers a compiled model calls (the fused elementwise groups are generated ILGPU kernels; these
/// are the GEMMs and row ops around them): the same math as the CPU kernels, run as the CUDA backend's kernels without
/// recording. Each CPU entry point forwards here for CUDA tensors.
/// </summary>
internal static class CudaCompiledOps
{
    /// <summary>activation(x·Wᵀ + b)·multiplier, and the pre-activation when asked.</summary>
    public static (Tensor Output, Tensor? PreActivation) LinearForward(Tensor x, Tensor weight, Tensor? bias, GemmActivation activation, float[]? multiplier, bool keepPreActivation)
    {
        using var noGrad = Autograd.NoGrad();
        if (!keepPreActivation && multiplier is null && Gpu.CublasLt.IsAvailable && EpilogueGemm(x, weight, bias, activation) is { } fused) return (fused, null);
        var z = F.Linear(x, weight, bias);
        Tensor y = activation switch
        {
            GemmActivation.Relu => z.Relu(),
            GemmActivation.Gelu => z.Gelu(),
            GemmActivation.GeluTanh => z.Gelu("tanh"),
            _ => z.Alias(),
        };
        if (multiplier is not null)
        {
            using var m = Upload(multiplier, y);
            using var scaled = y * m;
            y.Dispose();
            y = scaled.Alias();
        }
        if (keepPreActivation) return (y, z);
        z.Dispose();
        return (y, null);
    }

    /// <summary>activation(x·Wᵀ + b) in one cuBLASLt call with its bias/activation epilogue, or null where it cannot.</summary>
    static Tensor? EpilogueGemm(Tensor x, Tensor weight, Tensor? bias, GemmActivation activation)
    {
        int inFeatures = weight.Size(1), outFeatures = weight.Size(0);
        using var xc = x.Contiguous();
        using var wc = weight.Contiguous();
        int rows = checked((int)(x.Numel / Math.Max(1, inFeatures)));
        var shape = (int[])x.ShapeArray.Clone();
        shape[^1] = outFeatures;
        var y = Tensor.Empty(shape, x.DType, x.Device);
        // A = x [rows, in] row-major; B = Wᵀ, W [out, in] read with row stride 1 and column stride in.
        if (Gpu.CublasLt.TryGemm(xc, inFeatures, 1, 0, wc, 1, inFeatures, 0, y, 1, rows, outFeatures, inFeatures, 1f, 0f, bias, activation)) return y;
        y.Dispose();
        return null;
    }

    /// <summary>Gradients of a Linear (gated by a ReLU output and scale when <paramref name="output"/> is given).</summary>
    public static (Tensor? Input, Tensor Weight, Tensor? Bias) LinearBackward(Tensor x, Tensor weight, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput)
    {
        using var noGrad = Autograd.NoGrad();
        int inFeatures = weight.Size(1), outFeatures = weight.Size(0);
        using var g0 = grad.Reshape(-1, outFeatures);
        using var gated = output is null ? g0.Alias() : GateRelu(g0, output, scale);
        using var x2 = x.Reshape(-1, inFeatures);
        using var gt = gated.T;
        var dw = gt.Matmul(x2);
        var db = hasBias ? gated.Sum(new[] { 0 }) : null;
        Tensor? dx = null;
        if (needInput)
        {
            using var flat = gated.Matmul(weight);
            dx = flat.Reshape(x.ShapeArray);
        }
        return (dx, dw, db);
    }

    static Tensor GateRelu(Tensor g, Tensor output, float scale)
    {
        using var o = output.Reshape(g.ShapeArray);
        using var kept = g.KeepWhereGreater(o, 0);
        return scale == 1 ? kept.Alias() : kept * scale;
    }

    /// <summary>A host mask as a device tensor shaped like <paramref name="like"/> (its first elements).</summary>
    public static Tensor Upload(float[] values, Tensor like)
    {
        int n = (int)like.Numel;
        using var host = Tensor.From(values.AsSpan(0, n).ToArray(), like.ShapeArray);
        return host.To(like.Device);
    }

    /// <summary>LayerNorm over the last dim with its row statistics ([rows, 1] mean and 1/σ).</summary>
    public static (Tensor Output, Tensor Mean, Tensor Rstd) LayerNorm(LayerNorm layer, Tensor x)
    {
        using var noGrad = Autograd.NoGrad();
        var mean = x.Mean(new[] { -1 }, keepDim: true);
        using var centred = x - mean;
        using var sq = centred * centred;
        using var variance = sq.Mean(new[] { -1 }, keepDim: true);
        using var shifted = variance + layer.Eps;
        var rstd = shifted.Rsqrt();
        using var xhat = centred * rstd;
        Tensor y;
        if (layer.Weight is { } w)
        {
            using var scaled = xhat * w;
            y = layer.Bias is { } b ? scaled + b : scaled.Alias();
        }
        else y = layer.Bias is { } b ? xhat + b : xhat.Alias();
        return (y, mean, rstd);
    }

    /// <summary>LayerNorm's gradients from the saved statistics.</summary>
    public static (Tensor Input, Tensor? Weight, Tensor? Bias) LayerNormBackward(LayerNorm layer, Tensor x, Tensor mean, Tensor rstd, Tensor grad)
    {
        using var noGrad = Autograd.NoGrad();
        using var centred = x - mean;
        using var xhat = centred * rstd;
        int rank = x.Dim;
        var leading = new int[rank - 1];
        for (int i = 0; i < leading.Length; i++) leading[i] = i;
        Tensor? dw = null, db = null;
        if (layer.Weight is not null) { using var gx = grad * xhat; dw = gx.Sum(leading); }
        if (layer.Bias is not null) db = grad.Sum(leading);
        using var dxhat = layer.Weight is { } w ? grad * w : grad.Alias();
        using var m1 = dxhat.Mean(new[] { -1 }, keepDim: true);
        using var prod = dxhat * xhat;
        using var m2 = prod.Mean(new[] { -1 }, keepDim: true);
        using var t1 = dxhat - m1;
        using var t2 = xhat * m2;
        using var t3 = t1 - t2;
        var dx = t3 * rstd;
        return (dx, dw, db);
    }

    /// <summary>RMSNorm over the last dim with its row 1/rms ([rows, 1]): x·rsqrt(mean(x²) + eps)·weight.</summary>
    public static (Tensor Output, Tensor Rstd) RmsNorm(RMSNorm layer, Tensor x, double eps)
    {
        using var noGrad = Autograd.NoGrad();
        using var sq = x * x;
        using var meanSquare = sq.Mean(new[] { -1 }, keepDim: true);
        using var shifted = meanSquare + eps;
        var rstd = shifted.Rsqrt();
        using var xhat = x * rstd;
        return (layer.Weight is { } w ? xhat * w : xhat.Alias(), rstd);
    }

    /// <summary>RMSNorm's gradients from the saved 1/rms: dx = rstd·(ĝ - x̂·mean(ĝ·x̂)) with ĝ = grad·weight; dweight = Σ grad·x̂.</summary>
    public static (Tensor Input, Tensor? Weight) RmsNormBackward(RMSNorm layer, Tensor x, Tensor rstd, Tensor grad)
    {
        using var noGrad = Autograd.NoGrad();
        using var xhat = x * rstd;
        Tensor? dw = null;
        if (layer.Weight is not null)
        {
            var leading = new int[x.Dim - 1];
            for (int i = 0; i < leading.Length; i++) leading[i] = i;
            using var gx = grad * xhat;
            dw = gx.Sum(leading);
        }
        using var dxhat = layer.Weight is { } w ? grad * w : grad.Alias();
        using var prod = dxhat * xhat;
        using var m2 = prod.Mean(new[] { -1 }, keepDim: true);
        using var t2 = xhat * m2;
        using var t3 = dxhat - t2;
        return (t3 * rstd, dw);
    }

    /// <summary>
    /// BatchNorm over [N, C, *] with the per-channel mean and 1/σ used ([1, C, 1...]): the batch's (the running statistics
    /// moved toward them in training, as the eager op does) or the running ones.
    /// </summary>
    public static (Tensor Output, Tensor Mean, Tensor Rstd) BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool useBatch, bool training, double momentum, double eps)
    {
        using var noGrad = Autograd.NoGrad();
        var (dims, shape) = ChannelDims(x);
        int c = x.Size(1);
        Tensor mean, rstd;
        if (useBatch)
        {
            mean = x.Mean(dims, keepDim: true);
            using var centred = x - mean;
            using var sq = centred * centred;
            using var variance = sq.Mean(dims, keepDim: true);
            using var shifted = variance + eps;
            rstd = shifted.Rsqrt();
            if (training && runningMean is not null && runningVar is not null)
            {
                using var m = mean.Reshape(c);
                using var v = variance.Reshape(c);
                F.UpdateRunningStats(runningMean, runningVar, m, v, x.Numel / Math.Max(c, 1), momentum);
            }
        }
        else
        {
            // A copy: the running statistics may move before the backward reads these.
            using var rm = runningMean!.Reshape(shape);
            mean = rm.Clone();
            using var rv = runningVar!.Reshape(shape);
            using var shifted = rv + eps;
            rstd = shifted.Rsqrt();
        }
        using var xc = x - mean;
        var y = xc * rstd;
        if (weight is not null) { using var w = weight.Reshape(shape); using var scaled = y * w; y.Dispose(); y = scaled.Alias(); }
        if (bias is not null) { using var b = bias.Reshape(shape); using var shiftedY = y + b; y.Dispose(); y = shiftedY.Alias(); }
        return (y, mean, rstd);
    }

    /// <summary>
    /// BatchNorm's gradients from the saved statistics: dbias = Σ grad, dweight = Σ grad·x̂ over all but the channels; dx =
    /// rstd·(ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)) with the batch's statistics, rstd·ĝ with the running ones (ĝ = grad·weight).
    /// </summary>
    public static (Tensor? Input, Tensor? Weight, Tensor? Bias) BatchNormBackward(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, bool batchStatistics, bool needInput)
    {
        using var noGrad = Autograd.NoGrad();
        var (dims, shape) = ChannelDims(x);
        using var centred = x - mean;
        using var xhat = centred * rstd;
        var db = hasBias ? grad.Sum(dims) : null;
        Tensor? dw = null;
        if (weight is not null) { using var gx = grad * xhat; dw = gx.Sum(dims); }
        if (!needInput) return (null, dw, db);
        using var w = weight?.Reshape(shape);
        using var g = w is not null ? grad * w : grad.Alias();
        if (!batchStatistics) return (g * rstd, dw, db);
        using var m1 = g.Mean(dims, keepDim: true);
        using var prod = g * xhat;
        using var m2 = prod.Mean(dims, keepDim: true);
        using var t1 = g - m1;
        using var t2 = xhat * m2;
        using var t3 = t1 - t2;
        return (t3 * rstd, dw, db);
    }

    /// <summary>The dims a batch norm reduces over (all but the channels, dim 1) and the shape its per-channel values broadcast as.</summary>
    static (int[] Dims, int[] Shape) ChannelDims(Tensor x)
    {
        var dims = new int[x.Dim - 1];
        var shape = new int[x.Dim];
        for (int i = 0, k = 0; i < x.Dim; i++)
        {
            shape[i] = i == 1 ? x.Size(1) : 1;
            if (i != 1) dims[k++] = i;
        }
        return (dims, shape);
    }

    /// <summary>Mean cross entropy over the kept targets of rows [N, C]: the loss, each row's log-sum-exp, the kept count.</summary>
    public static (Tensor Loss, Tensor Lse, long Count) CrossEntropy(Tensor rows, Tensor target, long ignoreIndex)
    {
        using var noGrad = Autograd.NoGrad();
        using var t = target.ToInternal(DType.Int64).Reshape(-1, 1);
        using var ignored = t.Eq(ignoreIndex);
        using var safe = t.MaskedFill(ignored, 0);
        using var keep = ignored.LogicalNot().To(DType.Float32);
        var lse = rows.LogSumExp(new[] { 1 }, keepDim: true);
        using var picked = rows.Gather(1, safe);
        using var each = lse - picked;
        using var kept = each * keep;
        using var total = kept.Sum();
        using var countT = keep.Sum();
        long count = (long)countT.Item<float>();
        var loss = total / count;
        return (loss, lse, count);
    }

    /// <summary>(softmax − one-hot)·grad/count on the kept rows.</summary>
    public static Tensor CrossEntropyBackward(Tensor rows, Tensor target, Tensor lse, long count, Tensor grad, long ignoreIndex)
    {
        using var noGrad = Autograd.NoGrad();
        using var t = target.ToInternal(DType.Int64).Reshape(-1, 1);
        using var ignored = t.Eq(ignoreIndex);
        using var safe = t.MaskedFill(ignored, 0);
        using var keep = ignored.LogicalNot().To(DType.Float32);
        using var shifted = rows - lse;
        using var p = shifted.Exp();
        using var onehot = Tensor.ZerosLike(rows).Scatter(1, safe, 1.0);
        using var diff = p - onehot;
        using var kept = diff * keep;
        using var g = grad.To(rows.Device);
        using var perCount = g / count;
        return kept * perCount;
    }
}
