using System;
using Kiln.Compiler.Shapes;
using Kiln.Kernels;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Connectionist temporal classification loss (<c>F.ctc_loss</c>): the negative log-likelihood of each target sequence
    /// summed over every alignment of it to the input frames, blanks and repeats collapsed. <paramref name="logProbs"/> is
    /// [T, N, C] (or [T, C]) log-probabilities; <paramref name="targets"/> is [N, S] padded or the targets concatenated in
    /// 1-D; lengths are per sample. "mean" divides each loss by its target length, then averages over the batch;
    /// <paramref name="zeroInfinity"/> zeroes impossible alignments' infinite losses and their gradients.
    /// </summary>
    /// <remarks>
    /// The forward-backward recursion runs on the host in float64 (a device tensor makes the round trip). The gradient with
    /// respect to the log-probabilities is the exact one, -γ (the posterior occupancy); PyTorch's carries an extra eˣ term
    /// that a log-softmax in front cancels, so the two agree on the logits.
    /// </remarks>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths, int blank = 0,
        Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
        using var scope = Tensor.Scope();
        const string op = "ctc_loss";
        bool unbatched = logProbs.Dim == 2;
        if (logProbs.Dim != 3 && !unbatched)
            throw new KilnException(op, $"{op}: expected log_probs of shape [T, N, C] or [T, C], got {ShapeText.Format(logProbs.ShapeArray)}", KilnErrorKind.Shape);
        if (!logProbs.DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: expected floating point log_probs, got {logProbs.DType}", KilnErrorKind.DType);
        using var lp = unbatched ? logProbs.Unsqueeze(1) : logProbs.To(logProbs.DType);
        int frames = lp.Size(0), batch = lp.Size(1), classes = lp.Size(2);
        if (blank < 0 || blank >= classes) throw new KilnException(op, $"{op}: blank must be in label range [0, {classes}), got {blank}");
        var inLens = HostLongs(op, "input_lengths", inputLengths, batch);
        var tgtLens = HostLongs(op, "target_lengths", targetLengths, batch);
        var rows = TargetRows(op, targets, tgtLens, unbatched, classes);
        for (int b = 0; b < batch; b++)
            if (inLens[b] < 0 || inLens[b] > frames)
                throw new KilnException(op, $"{op}: input length {inLens[b]} of sample {b} is outside [0, {frames}] (log_probs {ShapeText.Format(logProbs.ShapeArray)})", KilnErrorKind.Shape);
        // The forward-backward recursion on the host in float64 (Kernels.CtcKernel); its gradient -γ is kept for the backward.
        var device = lp.Device;
        double[] values;
        double[]? gradient = null;
        bool differentiate = lp.RequiresGrad && GradMode.Enabled;
        using (Autograd.NoGrad())
        {
            var host = HostDoubles(lp);
            if (differentiate) gradient = new double[host.Length];
            values = CtcKernel.NegativeLogLikelihood(host, frames, batch, classes, rows, inLens, blank, gradient);
        }
        var dtype = lp.DType;
        var shape = lp.ShapeArray;
        Tensor perSample;
        using (var hostValues = Tensor.From(values, batch))
        using (var typedValues = hostValues.To(dtype))
            perSample = OnDevice(typedValues.To(dtype), device);
        Tensor loss = gradient is null ? perSample : Autograd.Function("ctc_loss", [lp], () => perSample, grad =>
        {
            using var hostGradient = Tensor.From(gradient, shape);
            using var typed = hostGradient.To(dtype);
            using var onDevice = typed.To(grad.Device);
            using var perFrame = grad.Reshape(1, batch, 1);
            return [onDevice.Mul(perFrame)];
        });
        if (zeroInfinity)
        {
            using var infinite = loss.IsInf();
            using var zero = Tensor.Full([], 0, lp.DType, device);
            var cleaned = Tensor.Where(infinite, zero, loss);
            loss.Dispose();
            loss = cleaned;
        }
        using (loss)
        {
            switch (reduction)
            {
                case Reduction.None:
                    return scope.Keep(unbatched ? loss.Reshape([]) : loss.To(loss.DType));
                case Reduction.Sum:
                    return scope.Keep(loss.Sum());
                default:
                    var divisors = new double[batch];
                    for (int b = 0; b < batch; b++) divisors[b] = Math.Max(tgtLens[b], 1);
                    using (var hostDivisors = Tensor.From(divisors, batch))
                    using (var typed = hostDivisors.To(lp.DType))
                    using (var onDevice = typed.To(device))
                    using (var scaled = loss.Div(onDevice))
                        return scope.Keep(scaled.Mean());
            }
        }
    }

    /// <summary>CTC loss with the lengths as arrays.</summary>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths, int blank = 0,
        Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
        using var scope = Tensor.Scope();
        using var inLens = Tensor.From(inputLengths, inputLengths.Length);
        using var tgtLens = Tensor.From(targetLengths, targetLengths.Length);
        return scope.Keep(CtcLoss(logProbs, targets, inLens, tgtLens, blank, reduction, zeroInfinity));
    }

    static Tensor OnDevice(Tensor host, Device device)
    {
        if (device.Type == DeviceType.Cpu) return host;
        using (host) return host.To(device);
    }

    /// <summary>The values as float64 on the host, read in the tensor's own dtype (no converted copy for float32).</summary>
    static double[] HostDoubles(Tensor t)
    {
        if (t.DType != DType.Float32) { using var wide = t.To(DType.Float64); return wide.ToArray<double>(); }
        var floats = t.ToArray<float>();
        var r = new double[floats.Length];
        for (int i = 0; i < r.Length; i++) r[i] = floats[i];
        return r;
    }

    static long[] HostLongs(string op, string name, Tensor lengths, int batch)
    {
        if (lengths.DType.IsFloatingPoint() || lengths.DType == DType.Bool)
            throw new KilnException(op, $"{op}: {name} must be integers, got {lengths.DType}", KilnErrorKind.DType);
        if (lengths.Numel != batch || lengths.Dim > 1)
            throw new KilnException(op, $"{op}: {name} must have one entry per batch element ({batch}), got shape {ShapeText.Format(lengths.ShapeArray)}", KilnErrorKind.Shape);
        using var wide = lengths.To(DType.Int64);
        return wide.ToArray<long>();
    }

    /// <summary>Each sample's target labels, from [N, S] padded targets or the concatenated 1-D form, checked against the classes.</summary>
    static long[][] TargetRows(string op, Tensor targets, long[] lengths, bool unbatched, int classes)
    {
        if (targets.DType.IsFloatingPoint() || targets.DType == DType.Bool)
            throw new KilnException(op, $"{op}: targets must be integers, got {targets.DType}", KilnErrorKind.DType);
        using var wide = targets.To(DType.Int64);
        var flat = wide.ToArray<long>();
        var rows = new long[lengths.Length][];
        bool padded = targets.Dim == 2 && !unbatched;
        int width = padded ? targets.Size(1) : 0;
        long offset = 0;
        for (int b = 0; b < lengths.Length; b++)
        {
            long n = lengths[b];
            if (n < 0) throw new KilnException(op, $"{op}: target length {n} of sample {b} is negative", KilnErrorKind.Shape);
            long start = padded ? (long)b * width : offset;
            if ((padded && n > width) || start + n > flat.Length)
                throw new KilnException(op, $"{op}: target length {n} of sample {b} runs past the targets {ShapeText.Format(targets.ShapeArray)}", KilnErrorKind.Shape);
            rows[b] = flat[(int)start..(int)(start + n)];
            foreach (long label in rows[b])
                if (label < 0 || label >= classes)
                    throw new KilnException(op, $"{op}: target label {label} of sample {b} is outside the {classes} classes", KilnErrorKind.Index);
            offset += n;
        }
        return rows;
    }
}
