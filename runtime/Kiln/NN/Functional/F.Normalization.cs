using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>Normalises over the trailing <paramref name="normalizedShape"/> dims: (x - mean) / sqrt(var + eps) · weight + bias (biased variance).</summary>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        if (Autocast.Widen(input, cudaOnly: true)) return Autocast.RunWidened(t => LayerNorm(t, normalizedShape, weight, bias, eps), input);
        TrailingDims("layer_norm", input, normalizedShape, weight, bias);
        int d = 1;
        foreach (int s in normalizedShape) d *= s;
        // One fused op (statistics in double, one pass each way) instead of a chain of reductions; where the device has
        // none, the recorded chain of its kernels.
        if (input.Backend.LayerNorm(input, d, weight, bias, eps) is { } fused) return fused;
        var dims = TrailingDims("layer_norm", input, normalizedShape, weight, bias);
        var mean = input.Mean(dims, keepDim: true);
        var centered = input - mean;
        var y = centered * ((centered * centered).Mean(dims, keepDim: true) + eps).Rsqrt();
        if (weight is not null) y = y * weight;
        if (bias is not null) y = y + bias;
        return y;
    }

    /// <summary>Root-mean-square norm over the trailing dims: x / sqrt(mean(x²) + eps) · weight; eps defaults to the dtype's machine epsilon.</summary>
    public static Tensor RmsNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, double? eps = null)
    {
        var dims = TrailingDims("rms_norm", input, normalizedShape, weight, null);
        double e = eps ?? (input.DType == DType.Float64 ? 2.220446049250313e-16 : 1.1920928955078125e-07);
        int width = 1;
        foreach (int s in normalizedShape) width *= s;
        // Half precision normalises in float32 and rounds once before the weight, as PyTorch's rms_norm and Hugging Face's
        // LlamaRMSNorm do (each op rounding to bfloat16 drifted from them, and cost six casting ops).
        if (input.DType == DType.BFloat16 && Bf16RmsNormApplies(input, weight)) return Bf16RmsNorm(input, width, weight, e);
        if (input.DType is DType.BFloat16 or DType.Float16)
        {
            // The float32 temporaries are released here rather than by finalizers (a recorded graph pins what it saved).
            using var wide = input.To(DType.Float32);
            using var norm32 = RmsNorm(wide, normalizedShape, null, e);
            if (weight is null) return norm32.To(input.DType);
            using var normalized = norm32.To(input.DType);
            return normalized * weight;
        }
        // Nothing to differentiate (inference): one fused pass where the device has it.
        if (!GradMode.Enabled || !(input.RequiresGrad || weight is { RequiresGrad: true }))
            if (input.Backend.RmsNorm(input, width, weight, e) is { } fused) return fused;
        // Training on the CPU: one recorded op, one pass each way (its gradient of the gradient is built from recorded ops).
        // Traced (an export) it stays the composed ops every exporter knows.
        if (input.Device.Type == DeviceType.Cpu && input.DType is DType.Float32 or DType.Float64 && !GradMode.Tracing
            && (weight is null || weight.Device.Type == DeviceType.Cpu && weight.DType == input.DType))
            return Tensor.LayerNormOp(input, width, weight, null, e, null, center: false);
        var y = input * ((input * input).Mean(dims, keepDim: true) + e).Rsqrt();
        return weight is null ? y : y * weight;
    }

    /// <summary>
    /// Whether a bf16 RMS norm runs as one pass (<see cref="Kernels.Normalization.Bf16RmsNorm"/>): contiguous CPU rows, a
    /// bf16 weight or none, nothing to differentiate and no trace being recorded (an export keeps the composed ops).
    /// </summary>
    static bool Bf16RmsNormApplies(Tensor input, Tensor? weight) =>
        input.Device.Type == DeviceType.Cpu && input.IsContiguous && !GradMode.Tracing
        && (!GradMode.Enabled || !(input.RequiresGrad || weight is { RequiresGrad: true }))
        && (weight is null || weight.DType == DType.BFloat16 && weight.Device.Type == DeviceType.Cpu && weight.IsContiguous);

    static unsafe Tensor Bf16RmsNorm(Tensor input, int width, Tensor? weight, double eps)
    {
        var y = Tensor.Empty(input.ShapeArray, DType.BFloat16);
        long rows = width == 0 ? 0 : input.Numel / width;
        Kernels.Normalization.Bf16RmsNorm.Forward(input.Ptr<ushort>(), weight is null ? null : weight.Ptr<ushort>(), y.Ptr<ushort>(), rows, width, eps);
        return y;
    }

    /// <summary>Normalises each of <paramref name="numGroups"/> channel groups of [N, C, *], then applies per-channel weight and bias.</summary>
    public static Tensor GroupNorm(Tensor input, int numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        using var scope = Tensor.Scope();
        const string op = "group_norm";
        if (input.Dim < 2) throw new KilnException(op, $"{op}: expected at least 2 dims [N, C, *], got {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        int n = input.Size(0), c = input.Size(1);
        if (numGroups <= 0 || c % numGroups != 0)
            throw new KilnException(op, $"{op}: Expected number of channels in input to be divisible by num_groups, but got input of shape {ShapeText.Format(input.ShapeArray)} and num_groups={numGroups}", KilnErrorKind.Shape);
        long groupSize = c / numGroups;
        for (int d = 2; d < input.Dim; d++) groupSize *= input.Size(d);
        var grouped = input.Reshape(n, numGroups, checked((int)groupSize)); // explicit: an empty batch leaves -1 undetermined
        var mean = grouped.Mean(2, keepDim: true);
        var centered = grouped - mean;
        var variance = (centered * centered).Mean(2, keepDim: true);
        var y = (centered * (variance + eps).Rsqrt()).Reshape(input.ShapeArray);
        var channelShape = ChannelShape(input);
        if (weight is not null) y = y * weight.Reshape(channelShape);
        if (bias is not null) y = y + bias.Reshape(channelShape);
        return scope.Keep(y);
    }

    /// <summary>
    /// Batch normalisation over [N, C, *]: in training (or without running statistics) normalises with the batch's
    /// statistics and updates <paramref name="runningMean"/>/<paramref name="runningVar"/> in place (unbiased variance,
    /// <paramref name="momentum"/>); otherwise uses the running statistics.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5)
    {
        const string op = "batch_norm";
        if (input.Dim < 2) throw new KilnException(op, $"{op}: expected at least 2 dims [N, C, *], got {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        int c = input.Size(1);
        foreach (var (t, name) in new[] { (runningMean, "running_mean"), (runningVar, "running_var"), (weight, "weight"), (bias, "bias") })
            if (t is not null && (t.Dim != 1 || t.Size(0) != c))
                throw new KilnException(op, $"{op}: {name} should contain {c} elements (the input's channels), got shape {ShapeText.Format(t.ShapeArray)}", KilnErrorKind.Shape);
        if (training && input.Numel == c && c > 0)
            throw new KilnException(op, $"{op}: Expected more than 1 value per channel when training, got input size {ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        var channelShape = ChannelShape(input);
        if (input.Numel == 0)
        {
            // An empty batch (as PyTorch): an empty result, the running statistics untouched rather than averaged with NaN.
            var empty = input.Clone();
            if (weight is not null) empty = empty * weight.Reshape(channelShape);
            if (bias is not null) empty = empty + bias.Reshape(channelShape);
            return empty;
        }
        // One fused op (statistics in double, one pass each way); where the device has none, the recorded chain below.
        if (input.Backend.BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps) is { } fused) return fused;
        var dims = new int[input.Dim - 1];
        dims[0] = 0;
        for (int i = 2; i < input.Dim; i++) dims[i - 1] = i;
        Tensor y;
        if (training || runningMean is null || runningVar is null)
        {
            long count = input.Numel / Math.Max(c, 1);
            var mean = input.Mean(dims, keepDim: true);
            var centered = input - mean;
            var variance = (centered * centered).Mean(dims, keepDim: true);
            y = centered * (variance + eps).Rsqrt();
            if (training && runningMean is not null && runningVar is not null)
                using (Autograd.NoGrad())
                using (var m = mean.Reshape(c))
                using (var v = variance.Reshape(c))
                    UpdateRunningStats(runningMean, runningVar, m, v, count, momentum);
        }
        else
        {
            using var rm = runningMean.Reshape(channelShape);
            using var rv = runningVar.Reshape(channelShape);
            y = (input - rm) * (rv + eps).Rsqrt();
        }
        if (weight is not null) y = y * weight.Reshape(channelShape);
        if (bias is not null) y = y + bias.Reshape(channelShape);
        return y;
    }

    /// <summary>Moves the running statistics toward a batch's per-channel mean and biased variance over <paramref name="count"/> values (the variance stored unbiased).</summary>
    internal static void UpdateRunningStats(Tensor runningMean, Tensor runningVar, Tensor mean, Tensor variance, long count, double momentum)
    {
        using var noGrad = Autograd.NoGrad();
        using var unbiased = variance * ((double)count / Math.Max(count - 1, 1));
        using var m = mean * momentum;
        using var u = unbiased * momentum;
        runningMean.Mul_(1 - momentum).Add_(m);
        runningVar.Mul_(1 - momentum).Add_(u);
    }

    static int[] ChannelShape(Tensor input)
    {
        var s = new int[input.Dim];
        Array.Fill(s, 1);
        s[1] = input.Size(1);
        return s;
    }

    static int[] TrailingDims(string op, Tensor input, int[] normalizedShape, Tensor? weight, Tensor? bias)
    {
        int k = normalizedShape.Length;
        LayerRules.TrailingDims(op, input.ShapeArray, normalizedShape);
        foreach (var (t, name) in new[] { (weight, "weight"), (bias, "bias") })
            if (t is not null && !ShapeRules.SameShape(t.ShapeArray, normalizedShape))
                throw new KilnException(op, $"{op}: Expected {name} to be of same shape as normalized_shape, but got {name} of shape {ShapeText.Format(t.ShapeArray)} and normalized_shape = {ShapeText.Format(normalizedShape)}", KilnErrorKind.Shape);
        var dims = new int[k];
        for (int i = 0; i < k; i++) dims[i] = input.Dim - k + i;
        return dims;
    }

    /// <summary>
    /// Local response normalization across channels (<c>F.local_response_norm</c>): x / (k + α·mean of x² over a window of
    /// <paramref name="size"/> channels)^β, the window zero-padded size/2 channels before and (size - 1)/2 after.
    /// </summary>
    public static Tensor LocalResponseNorm(Tensor input, int size, double alpha = 1e-4, double beta = 0.75, double k = 1.0)
    {
        using var scope = Tensor.Scope();
        return scope.Keep(LocalResponseNorm(input, size, alpha, beta, k, size / 2));
    }

    /// <summary>Local response normalization over a window of <paramref name="size"/> channels starting <paramref name="before"/>
    /// channels before each (PyTorch's window starts size/2 before; ONNX's LRN (size-1)/2 before).</summary>
    internal static Tensor LocalResponseNorm(Tensor input, int size, double alpha, double beta, double k, int before)
    {
        using var scope = Tensor.Scope();
        const string op = "local_response_norm";
        if (input.Dim < 3)
            throw new KilnException(op, $"{op}: expected 3D or higher dimensionality input (got {input.Dim} dimensions), shape {Compiler.Shapes.ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        if (size < 1) throw new KilnException(op, $"{op}: size must be positive, got {size}");
        using var squared = input.Square();
        using var channelsLast = squared.Movedim(1, -1);
        using var padded = Pad(channelsLast, [before, size - 1 - before]);
        using var windows = padded.Unfold(-1, size, 1);             // [..., C, size]
        using var average = windows.Mean([-1]);
        using var back = average.Movedim(-1, 1);
        using var scaled = back * alpha;
        using var shifted = scaled + k;
        using var divisor = shifted.Pow(beta);
        return scope.Keep(input / divisor);
    }

}
