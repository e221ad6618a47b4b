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

    // The three norms on the device, one formula each way: x̂ = (x - mean)·rstd (RMS: x·rstd) over some dims, y = x̂·w + b;
    // backward dx = rstd·(ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)) with ĝ = grad·w (RMS: no mean(ĝ) term).
    static readonly int[] LastDim = { -1 };

    /// <summary>LayerNorm over the last dim with its row statistics ([rows, 1] mean and 1/σ).</summary>
    public static (Tensor Output, Tensor Mean, Tensor Rstd) LayerNorm(LayerNorm layer, Tensor x)
    {
        using var noGrad = Autograd.NoGrad();
        var (y, mean, variance, rstd) = Normalize(x, LastDim, layer.Eps, centre: true, layer.Weight, layer.Bias);
        variance.Dispose();
        return (y, mean!, rstd);
    }

    /// <summary>LayerNorm's gradients from the saved statistics.</summary>
    public static (Tensor Input, Tensor? Weight, Tensor? Bias) LayerNormBackward(LayerNorm layer, Tensor x, Tensor mean, Tensor rstd, Tensor grad)
    {
        using var noGrad = Autograd.NoGrad();
        var (dx, dw, db) = NormalizeBackward(x, mean, rstd, grad, LastDim, LeadingDims(x.Dim), layer.Weight, layer.Bias is not null, needInput: true);
        return (dx!, dw, db);
    }

    /// <summary>RMSNorm over the last dim with its row 1/rms ([rows, 1]): x·rsqrt(mean(x²) + eps)·weight.</summary>
    public static (Tensor Output, Tensor Rstd) RmsNorm(RMSNorm layer, Tensor x, double eps)
    {
        using var noGrad = Autograd.NoGrad();
        var (y, _, meanSquare, rstd) = Normalize(x, LastDim, eps, centre: false, layer.Weight, null);
        meanSquare.Dispose();
        return (y, rstd);
    }

    /// <summary>RMSNorm's gradients from the saved 1/rms.</summary>
    public static (Tensor Input, Tensor? Weight) RmsNormBackward(RMSNorm layer, Tensor x, Tensor rstd, Tensor grad)
    {
        using var noGrad = Autograd.NoGrad();
        var (dx, dw, _) = NormalizeBackward(x, null, rstd, grad, LastDim, LeadingDims(x.Dim), layer.Weight, false, needInput: true);
        return (dx!, dw);
    }

    /// <summary>
    /// BatchNorm over [N, C, *] with the per-channel mean and 1/σ used ([1, C, 1...]): the batch's (the running statistics
    /// moved toward them in training, as the eager op does) or the running ones.
    /// </summary>
    public static (Tensor Output, Tensor Mean, Tensor Rstd) BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool useBatch, bool training, double momentum, double eps)
    {
        using var noGrad = Autograd.NoGrad();
        var (dims, shape) = ChannelDims(x);
        using var w = weight?.Reshape(shape);
        using var b = bias?.Reshape(shape);
        if (useBatch)
        {
            var (y, mean, variance, rstd) = Normalize(x, dims, eps, centre: true, w, b);
            using (variance)
                if (training && runningMean is not null && runningVar is not null)
                {
                    int c = x.Size(1);
                    using var m = mean!.Reshape(c);
                    using var v = variance.Reshape(c);
                    F.UpdateRunningStats(runningMean, runningVar, m, v, x.Numel / Math.Max(c, 1), momentum);
                }
            return (y, mean!, rstd);
        }
        // A copy: the running statistics may move before the backward reads these.
        using var rm = runningMean!.Reshape(shape);
        var runMean = rm.Clone();
        using var rv = runningVar!.Reshape(shape);
        using var shifted = rv + eps;
        var runRstd = shifted.Rsqrt();
        using var centred = x - runMean;
        using var xhat = centred * runRstd;
        return (Affine(xhat, w, b), runMean, runRstd);
    }

    /// <summary>BatchNorm's gradients from the saved statistics; with the running ones dx is rstd·ĝ (the statistics are constants).</summary>
    public static (Tensor? Input, Tensor? Weight, Tensor? Bias) BatchNormBackward(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, bool batchStatistics, bool needInput)
    {
        using var noGrad = Autograd.NoGrad();
        var (dims, shape) = ChannelDims(x);
        using var w = weight?.Reshape(shape);
        if (batchStatistics) return NormalizeBackward(x, mean, rstd, grad, dims, dims, w, hasBias, needInput);
        var (_, dw, db) = NormalizeBackward(x, mean, rstd, grad, dims, dims, w, hasBias, needInput: false);
        if (!needInput) return (null, dw, db);
        using var g = w is not null ? grad * w : grad.Alias();
        return (g * rstd, dw, db);
    }

    /// <summary>
    /// x̂ over <paramref name="dims"/> (centred or not) and y = x̂·w + b, with the mean (null uncentred), the biased variance
    /// (the mean square uncentred; the caller disposes it) and 1/σ, keeping their dims.
    /// </summary>
    static (Tensor Output, Tensor? Mean, Tensor Variance, Tensor Rstd) Normalize(Tensor x, int[] dims, double eps, bool centre, Tensor? weight, Tensor? bias)
    {
        var mean = centre ? x.Mean(dims, keepDim: true) : null;
        using var centred = mean is null ? x.Alias() : x - mean;
        using var sq = centred * centred;
        var variance = sq.Mean(dims, keepDim: true);
        using var shifted = variance + eps;
        var rstd = shifted.Rsqrt();
        using var xhat = centred * rstd;
        return (Affine(xhat, weight, bias), mean, variance, rstd);
    }

    /// <summary>
    /// The gradients of <see cref="Normalize"/> with batch statistics: dx (when <paramref name="needInput"/>), and dw = Σ grad·x̂,
    /// db = Σ grad over <paramref name="paramDims"/>.
    /// </summary>
    static (Tensor? Input, Tensor? Weight, Tensor? Bias) NormalizeBackward(Tensor x, Tensor? mean, Tensor rstd, Tensor grad, int[] dims, int[] paramDims,
        Tensor? weight, bool hasBias, bool needInput)
    {
        using var centred = mean is null ? x.Alias() : x - mean;
        using var xhat = centred * rstd;
        Tensor? dw = null;
        if (weight is not null) { using var gx = grad * xhat; dw = gx.Sum(paramDims); }
        var db = hasBias ? grad.Sum(paramDims) : null;
        if (!needInput) return (null, dw, db);
        using var dxhat = weight is not null ? grad * weight : grad.Alias();
        using var prod = dxhat * xhat;
        using var m2 = prod.Mean(dims, keepDim: true);
        using var m1 = mean is null ? null : dxhat.Mean(dims, keepDim: true);
        using var t1 = m1 is null ? dxhat.Alias() : dxhat - m1;
        using var t2 = xhat * m2;
        using var t3 = t1 - t2;
        return (t3 * rstd, dw, db);
    }

    /// <summary>x̂·w + b, either absent.</summary>
    static Tensor Affine(Tensor xhat, Tensor? weight, Tensor? bias)
    {
        if (weight is null) return bias is null ? xhat.Alias() : xhat + bias;
        if (bias is null) return xhat * weight;
        using var scaled = xhat * weight;
        return scaled + bias;
    }

    /// <summary>Every dim but the last: what a last-dim norm's weight and bias gradients sum over.</summary>
    static int[] LeadingDims(int rank)
    {
        var dims = new int[rank - 1];
        for (int i = 0; i < dims.Length; i++) dims[i] = i;
        return dims;
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
        using var t64 = target.ToInternal(DType.Int64);
        using var t = t64.Reshape(-1, 1);
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
        using var t64 = target.ToInternal(DType.Int64);
        using var t = t64.Reshape(-1, 1);
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
