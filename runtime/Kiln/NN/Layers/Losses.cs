using System;
namespace Kiln.NN;

/// <summary>
/// The base of the loss modules (<c>nn.CrossEntropyLoss</c>, ...): a module of (input, target) with the reduction
/// chosen at construction, each a thin holder of its <see cref="F"/> function's arguments.
/// </summary>
public abstract class Loss(Reduction reduction) : Module
{
    /// <summary>How per-element losses are combined.</summary>
    public Reduction Reduction { get; } = reduction;

    /// <summary>The loss of <paramref name="input"/> against <paramref name="target"/>.</summary>
    public abstract Tensor Forward(Tensor input, Tensor target);

    /// <summary>Runs the loss (PyTorch's <c>criterion(input, target)</c>).</summary>
    public Tensor Call(Tensor input, Tensor target) => Forward(input, target);
}

/// <summary>Cross entropy of logits against class indices or class probabilities (<c>nn.CrossEntropyLoss</c>).</summary>
public sealed class CrossEntropyLoss(Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0)
    : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.CrossEntropy(input, target, weight, ignoreIndex, Reduction, labelSmoothing);
}

/// <summary>Negative log likelihood of log-probabilities (<c>nn.NLLLoss</c>).</summary>
public sealed class NLLLoss(Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.NllLoss(input, target, weight, ignoreIndex, Reduction);
}

/// <summary>Mean squared error (<c>nn.MSELoss</c>).</summary>
public sealed class MSELoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.MseLoss(input, target, Reduction);
}

/// <summary>Mean absolute error (<c>nn.L1Loss</c>).</summary>
public sealed class L1Loss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.L1Loss(input, target, Reduction);
}

/// <summary>Smooth L1 (<c>nn.SmoothL1Loss</c>): quadratic below <c>beta</c>, linear above.</summary>
public sealed class SmoothL1Loss(Reduction reduction = Reduction.Mean, double beta = 1.0) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.SmoothL1Loss(input, target, Reduction, beta);
}

/// <summary>Huber loss (<c>nn.HuberLoss</c>).</summary>
public sealed class HuberLoss(Reduction reduction = Reduction.Mean, double delta = 1.0) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.HuberLoss(input, target, Reduction, delta);
}

/// <summary>Binary cross entropy of probabilities (<c>nn.BCELoss</c>).</summary>
public sealed class BCELoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.BinaryCrossEntropy(input, target, weight, Reduction);
}

/// <summary>Binary cross entropy of logits, computed stably (<c>nn.BCEWithLogitsLoss</c>).</summary>
public sealed class BCEWithLogitsLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.BinaryCrossEntropyWithLogits(input, target, weight, posWeight, Reduction);
}

/// <summary>Kullback-Leibler divergence of log-probabilities (<c>nn.KLDivLoss</c>).</summary>
public sealed class KLDivLoss(Reduction reduction = Reduction.Mean, bool logTarget = false) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.KlDiv(input, target, Reduction, logTarget);
}

/// <summary>A loss of three inputs (<c>criterion(a, b, c)</c>): ranking pairs with their order, triplets, a Gaussian's mean and variance.</summary>
public abstract class ThreeInputLoss(Reduction reduction) : Module
{
    /// <summary>How per-element losses are combined.</summary>
    public Reduction Reduction { get; } = reduction;

    /// <summary>The loss of the three inputs.</summary>
    public abstract Tensor Forward(Tensor first, Tensor second, Tensor third);

    /// <summary>Runs the loss (PyTorch's <c>criterion(a, b, c)</c>).</summary>
    public Tensor Call(Tensor first, Tensor second, Tensor third) => Forward(first, second, third);
}

/// <summary>max(0, -y·(x1 - x2) + margin) (<c>nn.MarginRankingLoss</c>): x1 should rank above x2 where y = 1.</summary>
public sealed class MarginRankingLoss(double margin = 0, Reduction reduction = Reduction.Mean) : ThreeInputLoss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor first, Tensor second, Tensor third) => F.MarginRankingLoss(first, second, third, margin, Reduction);
}

/// <summary>Pulls pairs with y = 1 together and pushes pairs with y = -1 below a cosine margin (<c>nn.CosineEmbeddingLoss</c>).</summary>
public sealed class CosineEmbeddingLoss(double margin = 0, Reduction reduction = Reduction.Mean) : ThreeInputLoss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor first, Tensor second, Tensor third) => F.CosineEmbeddingLoss(first, second, third, margin, Reduction);
}

/// <summary>max(d(a, p) - d(a, n) + margin, 0) over anchor, positive and negative (<c>nn.TripletMarginLoss</c>).</summary>
public sealed class TripletMarginLoss(double margin = 1, double p = 2, double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean)
    : ThreeInputLoss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor first, Tensor second, Tensor third) => F.TripletMarginLoss(first, second, third, margin, p, eps, swap, Reduction);
}

/// <summary>
/// max(d(a, p) - d(a, n) + margin, 0) with any distance function, the pairwise Euclidean distance by default
/// (<c>nn.TripletMarginWithDistanceLoss</c>).
/// </summary>
public sealed class TripletMarginWithDistanceLoss(Func<Tensor, Tensor, Tensor>? distanceFunction = null, double margin = 1, bool swap = false,
    Reduction reduction = Reduction.Mean) : ThreeInputLoss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor first, Tensor second, Tensor third) =>
        F.TripletMarginWithDistanceLoss(first, second, third, distanceFunction, margin, swap, Reduction);
}

/// <summary>Gaussian negative log-likelihood of targets under predicted means and variances (<c>nn.GaussianNLLLoss</c>).</summary>
public sealed class GaussianNLLLoss(bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean) : ThreeInputLoss(reduction)
{
    /// <summary>The loss of <paramref name="first"/> (means) against <paramref name="second"/> (targets) with variances <paramref name="third"/>.</summary>
    public override Tensor Forward(Tensor first, Tensor second, Tensor third) => F.GaussianNllLoss(first, second, third, full, eps, Reduction);
}

/// <summary>x where y = 1, max(0, margin - x) where y = -1 (<c>nn.HingeEmbeddingLoss</c>).</summary>
public sealed class HingeEmbeddingLoss(double margin = 1, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.HingeEmbeddingLoss(input, target, margin, Reduction);
}

/// <summary>log(1 + e^(-y·x)) (<c>nn.SoftMarginLoss</c>).</summary>
public sealed class SoftMarginLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.SoftMarginLoss(input, target, Reduction);
}

/// <summary>Per-class logistic loss averaged over classes, for multi-label targets (<c>nn.MultiLabelSoftMarginLoss</c>).</summary>
public sealed class MultiLabelSoftMarginLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.MultilabelSoftMarginLoss(input, target, weight, Reduction);
}

/// <summary>The multi-label hinge loss over scores [N, C] and class lists ended by -1 (<c>nn.MultiLabelMarginLoss</c>).</summary>
public sealed class MultiLabelMarginLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.MultilabelMarginLoss(input, target, Reduction);
}

/// <summary>The multi-class hinge loss over scores [N, C] and class indices (<c>nn.MultiMarginLoss</c>).</summary>
public sealed class MultiMarginLoss(int p = 1, double margin = 1, Tensor? weight = null, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.MultiMarginLoss(input, target, p, margin, weight, Reduction);
}

/// <summary>Poisson negative log-likelihood of counts under predicted (log-)rates (<c>nn.PoissonNLLLoss</c>).</summary>
public sealed class PoissonNLLLoss(bool logInput = true, bool full = false, double eps = 1e-8, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.PoissonNllLoss(input, target, logInput, full, eps, Reduction);
}

/// <summary>
/// Connectionist temporal classification loss (<c>nn.CTCLoss</c>) of [T, N, C] log-probabilities against unaligned target
/// sequences; see <see cref="F.CtcLoss(Tensor, Tensor, Tensor, Tensor, int, Reduction, bool)"/>.
/// </summary>
public sealed class CTCLoss(int blank = 0, Reduction reduction = Reduction.Mean, bool zeroInfinity = false) : Module
{
    /// <summary>The blank label.</summary>
    public int Blank { get; } = blank;
    /// <summary>How per-sample losses are combined.</summary>
    public Reduction Reduction { get; } = reduction;
    /// <summary>Whether infinite losses (and their gradients) are zeroed.</summary>
    public bool ZeroInfinity { get; } = zeroInfinity;

    /// <summary>The loss (PyTorch's <c>criterion(log_probs, targets, input_lengths, target_lengths)</c>).</summary>
    public Tensor Call(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths) =>
        F.CtcLoss(logProbs, targets, inputLengths, targetLengths, Blank, Reduction, ZeroInfinity);
}

