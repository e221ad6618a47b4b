using System;
using Kiln.Compiler.Shapes;

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
    /// The forward (alpha) recursion runs over the frames as batched tensor ops in log space (one logaddexp per path into a
    /// state), so its gradient is autograd's through that recursion: equal to PyTorch's once both pass through a
    /// log-softmax (PyTorch's backward with respect to log-probabilities carries an extra eˣ term that the log-softmax
    /// cancels).
    /// </remarks>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths, int blank = 0,
        Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
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
        long longest = 0;
        for (int b = 0; b < batch; b++)
        {
            if (inLens[b] < 0 || inLens[b] > frames)
                throw new KilnException(op, $"{op}: input length {inLens[b]} of sample {b} is outside [0, {frames}] (log_probs {ShapeText.Format(logProbs.ShapeArray)})", KilnErrorKind.Shape);
            longest = Math.Max(longest, tgtLens[b]);
        }
        // The extended targets l' = blank, t1, blank, t2, ..., blank: state s holds l'[s]; padded states are blanks never read.
        int states = (int)(2 * longest + 1);
        var ext = new long[batch * states];
        var canSkip = new bool[batch * states];
        var starts = new bool[batch * states];
        var last = new long[batch];
        var beforeLast = new long[batch];
        var hasTarget = new bool[batch];
        var active = new bool[Math.Max(frames, 1) * batch];
        for (int b = 0; b < batch; b++)
        {
            long length = tgtLens[b];
            for (int s = 0; s < states; s++)
            {
                bool label = s % 2 == 1 && s / 2 < length;
                ext[b * states + s] = label ? rows[b][s / 2] : blank;
                // A label may be reached from two states back (skipping a blank) unless it repeats the label there.
                canSkip[b * states + s] = label && s >= 2 && rows[b][s / 2] != rows[b][s / 2 - 1];
                starts[b * states + s] = s == 0 || (s == 1 && length > 0);
            }
            last[b] = 2 * length;
            beforeLast[b] = Math.Max(2 * length - 1, 0);
            hasTarget[b] = length > 0;
            for (int t = 0; t < frames; t++) active[t * batch + b] = t < inLens[b];
        }
        var device = lp.Device;
        using var extIndex = OnDevice(Tensor.From(ext, batch, states), device);
        using var skipMask = OnDevice(Tensor.From(canSkip, batch, states), device);
        using var startMask = OnDevice(Tensor.From(starts, batch, states), device);
        using var spread = extIndex.Unsqueeze(0);
        using var gatherIndex = spread.Expand(frames, batch, states);
        using var emissions = lp.Gather(2, gatherIndex.Contiguous());                   // [T, N, S'] log p(l'[s] at t)
        using var negInf = Tensor.Full([], double.NegativeInfinity, lp.DType, device);
        using var pad1 = Tensor.Full([batch, 1], double.NegativeInfinity, lp.DType, device);
        using var pad2 = Tensor.Full([batch, Math.Min(2, states)], double.NegativeInfinity, lp.DType, device);
        Tensor alpha;
        using (var first = emissions.Select(0, 0)) alpha = Tensor.Where(startMask, first, negInf);
        for (int t = 1; t < frames; t++)
        {
            using var frameActive = OnDevice(Tensor.From(active[(t * batch)..((t + 1) * batch)], batch, 1), device);
            using var staying = alpha.To(alpha.DType);
            Tensor? fromPrev = null, fromSkip = null;
            if (states > 1)
            {
                using var head1 = alpha.Narrow(1, 0, states - 1);
                fromPrev = Tensor.Cat([pad1, head1], 1);
            }
            if (states > 2)
            {
                using var head2 = alpha.Narrow(1, 0, states - 2);
                using var shifted = Tensor.Cat([pad2, head2], 1);
                fromSkip = Tensor.Where(skipMask, shifted, negInf);
            }
            using (fromPrev)
            using (fromSkip)
            {
                using var two = fromPrev is null ? staying.To(staying.DType) : staying.Logaddexp(fromPrev);
                using var three = fromSkip is null ? two.To(two.DType) : two.Logaddexp(fromSkip);
                using var emission = emissions.Select(0, t);
                using var next = three.Add(emission);
                var updated = Tensor.Where(frameActive, next, alpha);   // a sample whose input has ended keeps its alpha
                alpha.Dispose();
                alpha = updated;
            }
        }
        using (alpha)
        {
            using var lastIndex = OnDevice(Tensor.From(last, batch, 1), device);
            using var beforeIndex = OnDevice(Tensor.From(beforeLast, batch, 1), device);
            using var targetMask = OnDevice(Tensor.From(hasTarget, batch, 1), device);
            using var endBlank = alpha.Gather(1, lastIndex);
            using var endLabelRaw = alpha.Gather(1, beforeIndex);
            using var endLabel = Tensor.Where(targetMask, endLabelRaw, negInf);
            using var logLikelihood = endBlank.Logaddexp(endLabel);
            using var perSample = logLikelihood.Reshape(batch);
            var loss = perSample.Neg();
            // An empty input explains only an empty target: loss 0, else +inf (the recursion above read frame 0 for it).
            if (Array.Exists(inLens, n => n == 0))
            {
                var zeroInput = new bool[batch];
                var emptyBoth = new bool[batch];
                for (int b = 0; b < batch; b++) { zeroInput[b] = inLens[b] == 0; emptyBoth[b] = inLens[b] == 0 && tgtLens[b] == 0; }
                using var zeroMask = OnDevice(Tensor.From(zeroInput, batch), device);
                using var emptyMask = OnDevice(Tensor.From(emptyBoth, batch), device);
                using var inf = Tensor.Full([], double.PositiveInfinity, lp.DType, device);
                using var zero = Tensor.Full([], 0, lp.DType, device);
                using var impossible = Tensor.Where(zeroMask, inf, loss);
                loss.Dispose();
                loss = Tensor.Where(emptyMask, zero, impossible);
            }
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
                        return unbatched ? loss.Reshape([]) : loss.To(loss.DType);
                    case Reduction.Sum:
                        return loss.Sum();
                    default:
                        var divisors = new double[batch];
                        for (int b = 0; b < batch; b++) divisors[b] = Math.Max(tgtLens[b], 1);
                        using (var hostDivisors = Tensor.From(divisors, batch))
                        using (var typed = hostDivisors.To(lp.DType))
                        using (var onDevice = typed.To(device))
                        using (var scaled = loss.Div(onDevice))
                            return scaled.Mean();
                }
            }
        }
    }

    /// <summary>CTC loss with the lengths as arrays.</summary>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths, int blank = 0,
        Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
        using var inLens = Tensor.From(inputLengths, inputLengths.Length);
        using var tgtLens = Tensor.From(targetLengths, targetLengths.Length);
        return CtcLoss(logProbs, targets, inLens, tgtLens, blank, reduction, zeroInfinity);
    }

    static Tensor OnDevice(Tensor host, Device device)
    {
        if (device.Type == DeviceType.Cpu) return host;
        using (host) return host.To(device);
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
