using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Cross entropy of logits [N, C] or [N, C, d...] (or [C]) against class indices (int64, [N] / [N, d...]) or class
    /// probabilities (same shape as the input), with class weights, ignore index and label smoothing, as <c>F.cross_entropy</c>.
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100,
        Reduction reduction = Reduction.Mean, double labelSmoothing = 0)
    {
        using var scope = Tensor.Scope();
        if (Autocast.Widen(input)) return scope.Keep(Autocast.RunWidened(t => CrossEntropy(t, target, weight, ignoreIndex, reduction, labelSmoothing), input));
        const string op = "cross_entropy";
        if (labelSmoothing < 0 || labelSmoothing > 1)
            throw new KilnException(op, $"{op}: label_smoothing must be between 0.0 and 1.0. Got: {labelSmoothing}");
        int classDim = input.Dim == 1 ? 0 : 1;
        int c = input.Size(classDim);
        var logp = input.LogSoftmax(classDim);
        if (target.DType.IsFloatingPoint())
        {
            if (!ShapeRules.SameShape(input.ShapeArray, target.ShapeArray))
                throw new KilnException(op, $"{op}: class-probability targets must have the input's shape; input {ShapeText.Format(input.ShapeArray)}, target {ShapeText.Format(target.ShapeArray)}"
                    + (target.Dim == input.Dim - 1 ? $". Class-index targets must be int64: pass target.To(DType.Int64) (a {target.DType} target is read as probabilities)" : ""), KilnErrorKind.DType);
            var t = labelSmoothing > 0 ? target * (1 - labelSmoothing) + labelSmoothing / c : target;
            var prod = logp * t;
            if (weight is not null) prod = prod * weight.Reshape(ClassShape(input.Dim, classDim, c));
            var perSample = -prod.Sum(classDim);
            return scope.Keep(reduction switch
            {
                Reduction.None => perSample,
                Reduction.Sum => perSample.Sum(),
                Reduction.Mean => perSample.Sum() * (1.0 / Math.Max(1, input.Numel / c)),
                _ => throw BadReduction(op, reduction),
            });
        }
        var nll = NllLoss(logp, target, weight, ignoreIndex, reduction);
        if (labelSmoothing == 0) return scope.Keep(nll);
        // PyTorch's smoothing term: -Σ_c w_c·logp_c per sample, zero at ignored targets, normalised like the NLL part.
        var smoothProd = weight is null ? logp : logp * weight.Reshape(ClassShape(input.Dim, classDim, c));
        var smooth = -smoothProd.Sum(classDim);
        using var ignored = target.Eq(ignoreIndex);
        smooth = smooth.MaskedFill(ignored, 0);
        Tensor reduced = reduction switch
        {
            Reduction.None => smooth,
            Reduction.Sum => smooth.Sum(),
            Reduction.Mean => smooth.Sum() / Denominator(target, weight, ignoreIndex, input.DType),
            _ => throw BadReduction(op, reduction),
        };
        return scope.Keep(nll * (1 - labelSmoothing) + reduced * (labelSmoothing / c));
    }

    /// <summary>The error for a class index outside [0, classes) that is not the ignore index.</summary>
    internal static KilnException TargetOutOfBounds(string op, int classes, long ignoreIndex) =>
        new(op, $"{op}: Target out of bounds: every class index must lie in [0, {classes}) or equal ignore_index={ignoreIndex}");

    /// <summary>Negative log likelihood of log-probabilities [N, C, d...] at int64 class indices [N, d...] (<c>F.nll_loss</c>).</summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        if (Autocast.Widen(input)) return scope.Keep(Autocast.RunWidened(t => NllLoss(t, target, weight, ignoreIndex, reduction), input));
        const string op = "nll_loss";
        if (target.DType != DType.Int64 && target.DType != DType.Int32)
            throw new KilnException(op, $"{op}: expected target of integer class indices (int64), got {target.DType}", KilnErrorKind.DType);
        LayerRules.ClassTarget(op, input.ShapeArray, target.ShapeArray);
        int classDim = input.Dim == 1 ? 0 : 1;
        int c = input.Size(classDim);
        if (weight is not null && (weight.Dim != 1 || weight.Size(0) != c))
            throw new KilnException(op, $"{op}: weight tensor should be defined either for all {c} classes or no classes but got weight tensor of shape: {ShapeText.Format(weight.ShapeArray)}", KilnErrorKind.Shape);
        using var t64 = target.ToInternal(DType.Int64);
        using var ignored = t64.Eq(ignoreIndex);
        using var safe = t64.MaskedFill(ignored, 0);
        using (var lo = safe.Lt(0)) using (var hi = safe.Ge(c)) using (var any = (lo.Any().Item<bool>() || hi.Any().Item<bool>()) ? Tensor.Scalar(1L) : null)
            if (any is not null) throw TargetOutOfBounds(op, c, ignoreIndex);
        using var idx = safe.Unsqueeze(classDim);
        var picked = -input.Gather(classDim, idx).Squeeze(classDim);
        using var keep = ignored.LogicalNot().To(input.DType);
        Tensor w;
        if (weight is not null)
        {
            using var flat = safe.Reshape(-1);
            using var wTyped = weight.ToInternal(input.DType);
            using var wFlat = wTyped.IndexSelect(0, flat);
            using var wPicked = wFlat.Reshape(safe.ShapeArray);
            w = wPicked * keep;
        }
        else w = keep.Alias();
        var losses = picked * w;
        return scope.Keep(reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => losses.Sum(),
            Reduction.Mean => losses.Sum() / w.Sum(),
            _ => throw BadReduction(op, reduction),
        });
    }

    static Tensor Denominator(Tensor target, Tensor? weight, int ignoreIndex, DType dtype)
    {
        using var t64 = target.ToInternal(DType.Int64);
        using var keepMask = t64.Ne(ignoreIndex);
        using var keep = keepMask.To(dtype);
        if (weight is null) return keep.Sum();
        using var safe = t64.MaskedFill(t64.Eq(ignoreIndex), 0);
        using var flat = safe.Reshape(-1);
        using var wTyped = weight.ToInternal(dtype);
        using var wFlat = wTyped.IndexSelect(0, flat);
        using var w = wFlat.Reshape(safe.ShapeArray);
        using var kept = w * keep;
        return kept.Sum();
    }

    static int[] ClassShape(int rank, int classDim, int c)
    {
        var s = new int[rank];
        Array.Fill(s, 1);
        s[classDim] = c;
        return s;
    }

    /// <summary>Mean squared error.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        if (Autocast.Widen(input)) { using var wideTarget = target.To(DType.Float32); return scope.Keep(Autocast.RunWidened(t => MseLoss(t, wideTarget, reduction), input)); }
        if (reduction is Reduction.Mean or Reduction.Sum && ShapeRules.SameShape(input.ShapeArray, target.ShapeArray)
            && input.Device.Type == DeviceType.Cpu && target.Device.Type == DeviceType.Cpu && input.DType is DType.Float32 or DType.Float64
            && target.DType == input.DType && !GradMode.Tracing)
            return scope.Keep(Tensor.MseLossOp(input, target, reduction == Reduction.Mean));
        var d = Diff("mse_loss", input, target);
        return scope.Keep(Reduce("mse_loss", d * d, reduction));
    }

    /// <summary>Mean absolute error.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        return scope.Keep(Reduce("l1_loss", Diff("l1_loss", input, target).Abs(), reduction));
    }

    /// <summary>0.5·d²/β where |d| &lt; β, else |d| - 0.5·β.</summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        using var scope = Tensor.Scope();
        if (beta < 0) throw new KilnException("smooth_l1_loss", $"smooth_l1_loss does not support negative values for beta (got {beta})");
        var a = Diff("smooth_l1_loss", input, target).Abs();
        if (beta == 0) return scope.Keep(Reduce("smooth_l1_loss", a, reduction));
        using var small = a.Lt(beta);
        var quad = a * a * (0.5 / beta);
        var lin = a - 0.5 * beta;
        return scope.Keep(Reduce("smooth_l1_loss", Tensor.Where(small, quad, lin), reduction));
    }

    /// <summary>0.5·d² where |d| ≤ δ, else δ·(|d| - 0.5·δ).</summary>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        using var scope = Tensor.Scope();
        if (delta <= 0) throw new KilnException("huber_loss", $"huber_loss does not support non-positive values for delta (got {delta})");
        var a = Diff("huber_loss", input, target).Abs();
        using var small = a.Le(delta);
        var quad = a * a * 0.5;
        var lin = (a - 0.5 * delta) * delta;
        return scope.Keep(Reduce("huber_loss", Tensor.Where(small, quad, lin), reduction));
    }

    /// <summary>Binary cross entropy of probabilities; the logs are clamped at -100 as in PyTorch.</summary>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "binary_cross_entropy";
        if (!ShapeRules.SameShape(input.ShapeArray, target.ShapeArray))
            throw new KilnException(op, $"{op}: Using a target size ({ShapeText.Format(target.ShapeArray)}) that is different to the input size ({ShapeText.Format(input.ShapeArray)}) is deprecated. Please ensure they have the same size.", KilnErrorKind.Shape);
        using (var lo = input.Lt(0)) using (var hi = input.Gt(1))
            if (lo.Any().Item<bool>() || hi.Any().Item<bool>())
                throw new KilnException(op, $"{op}: all elements of input should be between 0 and 1");
        var logX = input.Log().Clamp(-100, null);
        var log1mX = (1.0 - input).Log().Clamp(-100, null);
        var loss = -(target * logX + (1.0 - target) * log1mX);
        if (weight is not null) loss = loss * weight;
        return scope.Keep(Reduce(op, loss, reduction));
    }

    /// <summary>
    /// Binary cross entropy on logits, computed stably (<c>F.binary_cross_entropy_with_logits</c>); <paramref name="posWeight"/>
    /// weighs positive examples per class.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "binary_cross_entropy_with_logits";
        LayerRules.SameSize(op, input.ShapeArray, target.ShapeArray);
        // log(1 + e^-x) written with m = max(-x, 0) so that neither exponent overflows.
        var m = (-input).Clamp(0, null);
        var softplusNeg = ((-m).Exp() + (-input - m).Exp()).Log() + m;
        Tensor loss;
        if (posWeight is not null)
        {
            var logWeight = (posWeight - 1.0) * target + 1.0;
            loss = (1.0 - target) * input + logWeight * softplusNeg;
        }
        else loss = (1.0 - target) * input + softplusNeg;
        if (weight is not null) loss = loss * weight;
        return scope.Keep(Reduce(op, loss, reduction));
    }

    /// <summary>
    /// KL divergence with <paramref name="input"/> as log-probabilities: target·(log target - input), 0 where target is 0
    /// (or exp(target)·(target - input) with <paramref name="logTarget"/>). <see cref="Reduction.BatchMean"/> divides by the batch size.
    /// </summary>
    public static Tensor KlDiv(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool logTarget = false)
    {
        using var scope = Tensor.Scope();
        const string op = "kl_div";
        Tensor loss;
        if (logTarget) loss = target.Exp() * (target - input);
        else
        {
            using var positive = target.Gt(0);
            var safe = Tensor.Where(positive, target, Tensor.OnesLike(target));
            var xlogy = target * safe.Log();
            loss = xlogy - target * input;
        }
        if (reduction == Reduction.BatchMean)
        {
            if (input.Dim == 0) return scope.Keep(loss.Sum());
            return scope.Keep(loss.Sum() * (1.0 / input.Size(0)));
        }
        return scope.Keep(Reduce(op, loss, reduction));
    }

    static Tensor Diff(string op, Tensor input, Tensor target)
    {
        if (!ShapeRules.SameShape(input.ShapeArray, target.ShapeArray))
            throw new KilnException(op, $"{op}: Using a target size ({ShapeText.Format(target.ShapeArray)}) that is different to the input size ({ShapeText.Format(input.ShapeArray)}). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.", KilnErrorKind.Shape);
        return input - target;
    }

    static Tensor Reduce(string op, Tensor loss, Reduction reduction) => reduction switch
    {
        Reduction.None => loss,
        Reduction.Mean => loss.Mean(),
        Reduction.Sum => loss.Sum(),
        _ => throw BadReduction(op, reduction),
    };

    static KilnException BadReduction(string op, Reduction r) => new(op, $"{op}: reduction {r} is not valid here (None, Mean or Sum)");
}
