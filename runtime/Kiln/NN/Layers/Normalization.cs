using System;

namespace Kiln.NN;

/// <summary>
/// Batch normalisation over the channel dim (<c>nn.BatchNorm1d/2d</c>): batch statistics in training (updating the
/// running mean and unbiased variance with <c>momentum</c>, or a cumulative average when it is null), running
/// statistics in eval mode.
/// </summary>
public abstract class BatchNormBase : Module<Tensor, Tensor>
{
    readonly int[] _ranks;

    private protected BatchNormBase(string name, int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats, DType dtype, int[] ranks)
    {
        if (numFeatures <= 0) throw new KilnException(name, $"{name}: num_features must be positive, got {numFeatures}");
        NumFeatures = numFeatures; Eps = eps; Momentum = momentum; Affine = affine; TrackRunningStats = trackRunningStats;
        _ranks = ranks;
        RegisterParameter("weight", affine ? Parameter(Tensor.Ones(new[] { numFeatures }, dtype)) : null);
        RegisterParameter("bias", affine ? Parameter(Tensor.Zeros(new[] { numFeatures }, dtype)) : null);
        RegisterBuffer("running_mean", trackRunningStats ? Tensor.Zeros(new[] { numFeatures }, dtype) : null);
        RegisterBuffer("running_var", trackRunningStats ? Tensor.Ones(new[] { numFeatures }, dtype) : null);
        RegisterBuffer("num_batches_tracked", trackRunningStats ? Tensor.Scalar(0L) : null);
    }

    /// <summary>Channels.</summary>
    public int NumFeatures { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Running-statistics momentum; null for a cumulative average.</summary>
    public double? Momentum { get; set; }
    /// <summary>Whether there is a learnable weight and bias.</summary>
    public bool Affine { get; }
    /// <summary>Whether running statistics are kept.</summary>
    public bool TrackRunningStats { get; }
    /// <summary>γ, or null.</summary>
    public Tensor? Weight => TensorMember("weight");
    /// <summary>β, or null.</summary>
    public Tensor? Bias => TensorMember("bias");
    /// <summary>The running mean, or null.</summary>
    public Tensor? RunningMean => TensorMember("running_mean");
    /// <summary>The running variance, or null.</summary>
    public Tensor? RunningVar => TensorMember("running_var");
    /// <summary>How many training batches updated the statistics.</summary>
    public Tensor? NumBatchesTracked => TensorMember("num_batches_tracked");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var step = Begin(input);
        return F.BatchNorm(input, step.RunningMean, step.RunningVar, Weight, Bias, step.UseBatch, step.Momentum, Eps);
    }

    /// <summary>
    /// What one forward call normalises with, after checking the input's channels: counts the batch (training with running
    /// statistics) and gives the momentum for this step (the cumulative average's 1/count without a momentum), whether the
    /// batch's statistics are used, and the running statistics read or updated. Shared by eager and compiled forwards.
    /// </summary>
    internal (double Momentum, bool UseBatch, Tensor? RunningMean, Tensor? RunningVar) Begin(Tensor input)
    {
        Compiler.Shapes.LayerRules.Channels(TypeName, input.ShapeArray, NumFeatures, _ranks);
        double factor = Momentum ?? 0;
        if (Training && TrackRunningStats && NumBatchesTracked is { } n)
        {
            using (Autograd.NoGrad()) using (var one = Tensor.Scalar(1L)) n.Add_(one);
            if (Momentum is null) factor = 1.0 / n.Item<long>();
        }
        bool useBatch = Training || RunningMean is null;
        return (factor, useBatch, !Training || TrackRunningStats ? RunningMean : null, !Training || TrackRunningStats ? RunningVar : null);
    }

    /// <inheritdoc/>
    public override string ExtraRepr() =>
        $"{NumFeatures}, eps={Py(Eps)}, momentum={(Momentum is double m ? Py(m) : "None")}, affine={Py(Affine)}, track_running_stats={Py(TrackRunningStats)}";
}

/// <summary>Batch norm over [N, C] or [N, C, L].</summary>
public sealed class BatchNorm1d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    : BatchNormBase("BatchNorm1d", numFeatures, eps, momentum, affine, trackRunningStats, dtype, [2, 3]);

/// <summary>Batch norm over [N, C, H, W].</summary>
public sealed class BatchNorm2d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    : BatchNormBase("BatchNorm2d", numFeatures, eps, momentum, affine, trackRunningStats, dtype, [4]);

/// <summary>Batch norm over [N, C, D, H, W] (<c>nn.BatchNorm3d</c>).</summary>
public sealed class BatchNorm3d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true, DType dtype = DType.Float32)
    : BatchNormBase("BatchNorm3d", numFeatures, eps, momentum, affine, trackRunningStats, dtype, [5]);

/// <summary>Layer normalisation over the trailing dims (<c>nn.LayerNorm</c>); weight ones, bias zeros.</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    /// <summary>Normalises over the last dim of size <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, DType dtype = DType.Float32)
        : this([normalizedShape], eps, elementwiseAffine, dtype) { }

    /// <summary>Normalises over trailing dims of <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, DType dtype = DType.Float32)
    {
        foreach (int d in normalizedShape) if (d <= 0) throw new KilnException("LayerNorm", $"LayerNorm: normalized_shape must be positive, got {Py(normalizedShape)}", KilnErrorKind.Shape);
        NormalizedShape = (int[])normalizedShape.Clone(); Eps = eps; ElementwiseAffine = elementwiseAffine;
        RegisterParameter("weight", elementwiseAffine ? Parameter(Tensor.Ones(normalizedShape, dtype)) : null);
        RegisterParameter("bias", elementwiseAffine ? Parameter(Tensor.Zeros(normalizedShape, dtype)) : null);
    }

    /// <summary>The normalised trailing shape.</summary>
    public int[] NormalizedShape { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Whether weight and bias exist.</summary>
    public bool ElementwiseAffine { get; }
    /// <summary>γ, or null.</summary>
    public Tensor? Weight => TensorMember("weight");
    /// <summary>β, or null.</summary>
    public Tensor? Bias => TensorMember("bias");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.LayerNorm(input, NormalizedShape, Weight, Bias, Eps);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"{Py(NormalizedShape)}, eps={Py(Eps)}, elementwise_affine={Py(ElementwiseAffine)}";
}

/// <summary>Root-mean-square normalisation over the trailing dims (<c>nn.RMSNorm</c>); eps null means the dtype's epsilon.</summary>
public sealed class RMSNorm : Module<Tensor, Tensor>
{
    /// <summary>Normalises over the last dim of size <paramref name="normalizedShape"/>.</summary>
    public RMSNorm(int normalizedShape, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32)
        : this([normalizedShape], eps, elementwiseAffine, dtype) { }

    /// <summary>Normalises over trailing dims of <paramref name="normalizedShape"/>.</summary>
    public RMSNorm(int[] normalizedShape, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32)
    {
        foreach (int d in normalizedShape) if (d <= 0) throw new KilnException("RMSNorm", $"RMSNorm: normalized_shape must be positive, got {Py(normalizedShape)}", KilnErrorKind.Shape);
        NormalizedShape = (int[])normalizedShape.Clone(); Eps = eps; ElementwiseAffine = elementwiseAffine;
        RegisterParameter("weight", elementwiseAffine ? Parameter(Tensor.Ones(normalizedShape, dtype)) : null);
    }

    /// <summary>The normalised trailing shape.</summary>
    public int[] NormalizedShape { get; }
    /// <summary>Added to the mean square; null uses the dtype's machine epsilon.</summary>
    public double? Eps { get; }
    /// <summary>Whether a weight exists.</summary>
    public bool ElementwiseAffine { get; }
    /// <summary>γ, or null.</summary>
    public Tensor? Weight => TensorMember("weight");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.RmsNorm(input, NormalizedShape, Weight, Eps);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"{Py(NormalizedShape)}, eps={(Eps is double e ? Py(e) : "None")}, elementwise_affine={Py(ElementwiseAffine)}";
}

/// <summary>Group normalisation (<c>nn.GroupNorm</c>): channels split into groups normalised separately; per-channel affine.</summary>
public sealed class GroupNorm : Module<Tensor, Tensor>
{
    /// <summary>Normalises <paramref name="numChannels"/> channels in <paramref name="numGroups"/> groups.</summary>
    public GroupNorm(int numGroups, int numChannels, double eps = 1e-5, bool affine = true, DType dtype = DType.Float32)
    {
        if (numGroups <= 0 || numChannels % numGroups != 0)
            throw new KilnException("GroupNorm", $"GroupNorm: num_channels must be divisible by num_groups (num_channels={numChannels}, num_groups={numGroups})");
        NumGroups = numGroups; NumChannels = numChannels; Eps = eps; Affine = affine;
        RegisterParameter("weight", affine ? Parameter(Tensor.Ones(new[] { numChannels }, dtype)) : null);
        RegisterParameter("bias", affine ? Parameter(Tensor.Zeros(new[] { numChannels }, dtype)) : null);
    }

    /// <summary>Groups.</summary>
    public int NumGroups { get; }
    /// <summary>Channels.</summary>
    public int NumChannels { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Whether weight and bias exist.</summary>
    public bool Affine { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Dim < 2 || input.Size(1) != NumChannels)
            throw new KilnException("GroupNorm", $"GroupNorm: expected input with {NumChannels} channels in dim 1, got shape {Compiler.Shapes.ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        return F.GroupNorm(input, NumGroups, TensorMember("weight"), TensorMember("bias"), Eps);
    }

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{NumGroups}, {NumChannels}, eps={Py(Eps)}, affine={Py(Affine)}";
}

/// <summary>
/// Instance normalization (<c>nn.InstanceNorm1d/2d</c>): each sample's channels normalised over their own positions,
/// PyTorch's defaults (no affine parameters, no running statistics).
/// </summary>
public abstract class InstanceNormBase : Module<Tensor, Tensor>
{
    /// <summary>Normalises each of <paramref name="numFeatures"/> channels per sample.</summary>
    private protected InstanceNormBase(int numFeatures, double eps, bool affine, DType dtype)
    {
        if (numFeatures <= 0) throw new KilnException("InstanceNorm", $"InstanceNorm: num_features must be positive, got {numFeatures}");
        NumFeatures = numFeatures; Eps = eps; Affine = affine;
        RegisterParameter("weight", affine ? Parameter(Tensor.Ones(new[] { numFeatures }, dtype)) : null);
        RegisterParameter("bias", affine ? Parameter(Tensor.Zeros(new[] { numFeatures }, dtype)) : null);
    }

    /// <summary>Channels.</summary>
    public int NumFeatures { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Whether weight and bias exist.</summary>
    public bool Affine { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Dim < 3 || input.Size(1) != NumFeatures)
            throw new KilnException(GetType().Name, $"{GetType().Name}: expected input [N, {NumFeatures}, ...] with {NumFeatures} channels in dim 1, got shape {Compiler.Shapes.ShapeText.Format(input.ShapeArray)}", KilnErrorKind.Shape);
        // One group per channel: group normalization is instance normalization.
        return F.GroupNorm(input, NumFeatures, TensorMember("weight"), TensorMember("bias"), Eps);
    }

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{NumFeatures}, eps={Py(Eps)}, momentum=0.1, affine={Py(Affine)}, track_running_stats=False";
}


/// <summary>Instance normalization of [N, C, L] (<c>nn.InstanceNorm1d</c>).</summary>
public sealed class InstanceNorm1d(int numFeatures, double eps = 1e-5, bool affine = false, DType dtype = DType.Float32)
    : InstanceNormBase(numFeatures, eps, affine, dtype);


/// <summary>Instance normalization of [N, C, H, W] (<c>nn.InstanceNorm2d</c>).</summary>
public sealed class InstanceNorm2d(int numFeatures, double eps = 1e-5, bool affine = false, DType dtype = DType.Float32)
    : InstanceNormBase(numFeatures, eps, affine, dtype);

/// <summary>Instance normalization of [N, C, D, H, W] (<c>nn.InstanceNorm3d</c>).</summary>
public sealed class InstanceNorm3d(int numFeatures, double eps = 1e-5, bool affine = false, DType dtype = DType.Float32)
    : InstanceNormBase(numFeatures, eps, affine, dtype);

/// <summary>Local response normalization across channels (<c>nn.LocalResponseNorm</c>), AlexNet's.</summary>
public sealed class LocalResponseNorm(int size, double alpha = 1e-4, double beta = 0.75, double k = 1.0) : Module<Tensor, Tensor>
{
    /// <summary>Channels in a window.</summary>
    public int Size { get; } = size;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.LocalResponseNorm(input, Size, alpha, beta, k);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{Size}, alpha={Py(alpha)}, beta={Py(beta)}, k={Py(k)}";
}
