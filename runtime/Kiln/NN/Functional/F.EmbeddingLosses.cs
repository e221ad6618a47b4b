using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>max(0, -y·(x1 - x2) + margin) with y = ±1 (<c>F.margin_ranking_loss</c>).</summary>
    public static Tensor MarginRankingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "margin_ranking_loss";
        if (input1.Dim != input2.Dim || input1.Dim != target.Dim)
            throw new KilnException(op, $"{op}: All input tensors should have same dimension but got sizes: input1: {ShapeText.Format(input1.ShapeArray)}, input2: {ShapeText.Format(input2.ShapeArray)}, target: {ShapeText.Format(target.ShapeArray)}", KilnErrorKind.Shape);
        using var gap = input1 - input2;
        using var signed = target * gap;
        using var shifted = margin - signed;
        return scope.Keep(Reduce(op, shifted.Clamp(min: 0), reduction));
    }

    /// <summary>x where y = 1, max(0, margin - x) where y = -1 (<c>F.hinge_embedding_loss</c>).</summary>
    public static Tensor HingeEmbeddingLoss(Tensor input, Tensor target, double margin = 1, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        using var below = margin - input;
        using var hinge = below.Clamp(min: 0);
        using var notPositive = target.Ne(1);
        using var notNegative = target.Ne(-1);
        using var marginPart = hinge * notPositive.To(hinge.DType);
        using var selfPart = input * notNegative.To(input.DType);
        return scope.Keep(Reduce("hinge_embedding_loss", marginPart + selfPart, reduction));
    }

    /// <summary>log(1 + e^(-y·x)) with y = ±1 (<c>F.soft_margin_loss</c>).</summary>
    public static Tensor SoftMarginLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        using var signed = input * target;
        using var negated = signed.Neg();
        using var e = negated.Exp();
        return scope.Keep(Reduce("soft_margin_loss", e.Log1p(), reduction));
    }

    /// <summary>
    /// The mean over classes of -(y·log σ(x) + (1 - y)·log σ(-x)), optionally weighted per class, then reduced over the
    /// batch (<c>F.multilabel_soft_margin_loss</c>).
    /// </summary>
    public static Tensor MultilabelSoftMarginLoss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "multilabel_soft_margin_loss";
        if (!ShapeRules.SameShape(input.ShapeArray, target.ShapeArray))
            throw new KilnException(op, $"{op}: target size ({ShapeText.Format(target.ShapeArray)}) must be the same as input size ({ShapeText.Format(input.ShapeArray)})", KilnErrorKind.Shape);
        using var logP = input.LogSigmoid();
        using var negatedInput = input.Neg();
        using var logQ = negatedInput.LogSigmoid();
        using var complement = 1.0 - target;
        using var both = target * logP + complement * logQ;
        using var perClass = both.Neg();
        using var weighted = weight is null ? null : perClass * weight;
        int classDim = input.Dim - 1;
        using var summed = (weighted ?? perClass).Sum(classDim);
        var perSample = summed / input.Size(classDim);
        if (reduction == Reduction.None) return scope.Keep(perSample);
        using (perSample) return scope.Keep(Reduce(op, perSample, reduction));
    }

    /// <summary>
    /// 1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (<c>F.cosine_embedding_loss</c>), the cosine
    /// over the last dim as PyTorch computes it (squared norms each plus 1e-12).
    /// </summary>
    public static Tensor CosineEmbeddingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "cosine_embedding_loss";
        if (!ShapeRules.SameShape(input1.ShapeArray, input2.ShapeArray) || input1.Dim < 1 || input1.Dim > 2 || target.Dim != input1.Dim - 1)
            throw new KilnException(op, $"{op}: expected inputs [N, D] (or [D]) of one shape and a target [N] (or []), got {ShapeText.Format(input1.ShapeArray)}, {ShapeText.Format(input2.ShapeArray)} and {ShapeText.Format(target.ShapeArray)}", KilnErrorKind.Shape);
        int dim = input1.Dim - 1;
        using var product = input1 * input2;
        using var dot = product.Sum(dim);
        using var squares1 = input1 * input1;
        using var squares2 = input2 * input2;
        using var sum1 = squares1.Sum(dim);
        using var sum2 = squares2.Sum(dim);
        using var mag1 = sum1 + 1e-12;
        using var mag2 = sum2 + 1e-12;
        using var magnitudes = mag1 * mag2;
        using var denominator = magnitudes.Sqrt();
        using var cos = dot / denominator;
        using var positive = 1.0 - cos;
        using var shifted = cos - margin;
        using var negative = shifted.Clamp(min: 0);
        using var isPositive = target.Eq(1);
        using var isNegative = target.Eq(-1);
        using var positivePart = positive * isPositive.To(positive.DType);
        using var negativePart = negative * isNegative.To(negative.DType);
        return scope.Keep(Reduce(op, positivePart + negativePart, reduction));
    }

    /// <summary>
    /// max(d(a, p) - d(a, n) + margin, 0) with d the pairwise p-norm distance (<c>F.triplet_margin_loss</c>); with
    /// <paramref name="swap"/> d(a, n) is replaced by d(p, n) where that is smaller.
    /// </summary>
    public static Tensor TripletMarginLoss(Tensor anchor, Tensor positive, Tensor negative, double margin = 1, double p = 2, double eps = 1e-6,
        bool swap = false, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "triplet_margin_loss";
        if (anchor.Dim != positive.Dim || anchor.Dim != negative.Dim)
            throw new KilnException(op, $"{op}: All inputs should have same dimension but got {anchor.Dim}D, {positive.Dim}D and {negative.Dim}D inputs.", KilnErrorKind.Shape);
        return scope.Keep(Triplet(op, anchor, positive, negative, (a, b) => PairwiseDistance(a, b, p, eps), margin, swap, reduction));
    }

    /// <summary>
    /// max(d(a, p) - d(a, n) + margin, 0) with any distance <paramref name="distanceFunction"/> (the pairwise Euclidean
    /// distance when null) (<c>F.triplet_margin_with_distance_loss</c>); with <paramref name="swap"/> d(a, n) is replaced
    /// by d(p, n) where that is smaller.
    /// </summary>
    public static Tensor TripletMarginWithDistanceLoss(Tensor anchor, Tensor positive, Tensor negative, Func<Tensor, Tensor, Tensor>? distanceFunction = null,
        double margin = 1, bool swap = false, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "triplet_margin_with_distance_loss";
        if (!(margin > 0)) throw new KilnException(op, $"{op}: margin must be greater than 0, got {margin}");
        return scope.Keep(Triplet(op, anchor, positive, negative, distanceFunction ?? ((a, b) => PairwiseDistance(a, b)), margin, swap, reduction));
    }

    static Tensor Triplet(string op, Tensor anchor, Tensor positive, Tensor negative, Func<Tensor, Tensor, Tensor> distance, double margin, bool swap, Reduction reduction)
    {
        using var toPositive = distance(anchor, positive);
        var toNegative = distance(anchor, negative);
        if (swap)
        {
            using var swapped = distance(positive, negative);
            var unswapped = toNegative;
            toNegative = unswapped.Minimum(swapped);
            unswapped.Dispose();
        }
        using (toNegative)
        {
            using var gap = toPositive - toNegative;
            using var shifted = gap + margin;
            return Reduce(op, shifted.Clamp(min: 0), reduction);
        }
    }

    /// <summary>
    /// The multi-label hinge loss (<c>F.multilabel_margin_loss</c>): target [N, C] (or [C]) lists each sample's classes
    /// up to the first -1; the loss is Σ over listed j and unlisted i of max(0, 1 - (x[j] - x[i])), over C.
    /// </summary>
    public static Tensor MultilabelMarginLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "multilabel_margin_loss";
        if (!ShapeRules.SameShape(input.ShapeArray, target.ShapeArray) || input.Dim < 1 || input.Dim > 2)
            throw new KilnException(op, $"{op}: expected input [N, C] or [C] and a target of the same shape, got {ShapeText.Format(input.ShapeArray)} and {ShapeText.Format(target.ShapeArray)}", KilnErrorKind.Shape);
        if (target.DType.IsFloatingPoint())
            throw new KilnException(op, $"{op}: the target must hold class indices (an integer dtype), got {target.DType.Name()}", KilnErrorKind.DType);
        bool vector = input.Dim <= 1;
        using var rows = input.Reshape([vector ? 1 : input.Size(0), -1]);
        int n = rows.Size(0), classes = rows.Size(1);
        // Which classes each sample lists (on the host: the -1 terminator makes it a per-row scan).
        var listed = new float[n * classes];
        using (var hostTarget = target.Cpu())
        using (var wide = hostTarget.To(DType.Int64))
        {
            var t = wide.ToArray<long>();
            for (int r = 0; r < n; r++)
                for (int j = 0; j < classes; j++)
                {
                    long c = t[r * classes + j];
                    if (c < 0) break;
                    if (c >= classes) throw new KilnException(op, $"{op}: target index {c} at [{r}, {j}] is out of range for {classes} classes", KilnErrorKind.Index);
                    listed[r * classes + c] = 1;
                }
        }
        using var isTarget = Tensor.From(listed, n, classes).To(input.DType).To(input.Device);
        using var notTarget = 1.0 - isTarget;
        using var xj = rows.Unsqueeze(2);                    // [N, C, 1]: the listed class j
        using var xi = rows.Unsqueeze(1);                    // [N, 1, C]: the other class i
        using var gap = xi - xj;
        using var shifted = gap + 1.0;
        using var hinge = shifted.Clamp(min: 0);
        using var listedRows = isTarget.Unsqueeze(2);
        using var otherColumns = notTarget.Unsqueeze(1);
        using var pairs = listedRows * otherColumns;
        using var masked = hinge * pairs;
        using var summed = masked.Sum([1, 2]);
        if (!vector) return scope.Keep(Reduce(op, summed / classes, reduction));
        using var single = summed.Reshape([]);
        return scope.Keep(Reduce(op, single / classes, reduction));
    }

    /// <summary>
    /// Σ over classes i ≠ y of max(0, margin - x[y] + x[i])^p (p = 1 or 2), times weight[y], over the class count
    /// (<c>F.multi_margin_loss</c>).
    /// </summary>
    public static Tensor MultiMarginLoss(Tensor input, Tensor target, int p = 1, double margin = 1, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensor.Scope();
        const string op = "multi_margin_loss";
        if (p != 1 && p != 2) throw new KilnException(op, $"{op}: only p == 1 and p == 2 supported, got {p}");
        bool vector = input.Dim == 1;
        if (vector ? target.Numel != 1 : input.Dim != 2 || target.Dim != 1 || target.Size(0) != input.Size(0))
            throw new KilnException(op, $"{op}: expected input [N, C] (or [C]) and target [N] (or []), got {ShapeText.Format(input.ShapeArray)} and {ShapeText.Format(target.ShapeArray)}", KilnErrorKind.Shape);
        // A vector input is one sample; the batch's own tensors are used as they are (an alias would not be recorded).
        using var unsqueezed = vector ? input.Unsqueeze(0) : null;
        using var reshaped = vector ? target.Reshape(1) : null;
        var x = unsqueezed ?? input;
        var y = reshaped ?? target;
        int classes = x.Size(1);
        using var column = y.Unsqueeze(1);
        using var picked = x.Gather(1, column);
        using var gap = x - picked;
        using var shifted = gap + margin;
        using var hinge = shifted.Clamp(min: 0);
        using var powered = p == 2 ? hinge * hinge : null;
        using var oneHot = OneHot(y, classes);
        using var others = 1 - oneHot.To(x.DType);
        using var masked = (powered ?? hinge) * others;
        using var rowWeight = weight is null ? null : weight.IndexSelect(0, y).Unsqueeze(1);
        using var weighted = rowWeight is null ? null : masked * rowWeight;
        using var sum = (weighted ?? masked).Sum(1);
        var perSample = sum / classes;
        if (vector && reduction == Reduction.None) { using (perSample) return scope.Keep(perSample.Reshape([])); }
        if (reduction == Reduction.None) return scope.Keep(perSample);
        using (perSample) return scope.Keep(Reduce(op, perSample, reduction));
    }
}
