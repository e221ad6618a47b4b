namespace Kiln.NN;

/// <summary>Max over sliding windows of [N, C, L] (<c>nn.MaxPool1d</c>); stride defaults to the kernel size.</summary>
public sealed class MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.MaxPool1d(input, kernelSize, stride, padding, dilation, ceilMode);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}, dilation={dilation}, ceil_mode={Py(ceilMode)}";
}

/// <summary>Mean over sliding windows of [N, C, L] (<c>nn.AvgPool1d</c>).</summary>
public sealed class AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AvgPool1d(input, kernelSize, stride, padding, ceilMode, countIncludePad);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size=({kernelSize},), stride=({stride ?? kernelSize},), padding=({padding},)";
}

/// <summary>Max pooling to a fixed output size (<c>nn.AdaptiveMaxPool2d</c>).</summary>
public sealed class AdaptiveMaxPool2d : Module<Tensor, Tensor>
{
    readonly int[] _size;

    /// <summary>Pools to <paramref name="outputSize"/> x <paramref name="outputSize"/>.</summary>
    public AdaptiveMaxPool2d(int outputSize) => _size = [outputSize, outputSize];

    /// <summary>Pools to height x width.</summary>
    public AdaptiveMaxPool2d(int height, int width) => _size = [height, width];

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AdaptiveMaxPool2d(input, _size);
    /// <inheritdoc/>
    public override string ExtraRepr() => _size[0] == _size[1] ? $"output_size={_size[0]}" : $"output_size=({_size[0]}, {_size[1]})";
}

/// <summary>Zeroes whole channels while training (<c>nn.Dropout2d</c>).</summary>
public sealed class Dropout2d : Module<Tensor, Tensor>
{
    /// <summary>A channel dropout layer with drop probability <paramref name="p"/>.</summary>
    public Dropout2d(double p = 0.5)
    {
        if (p < 0 || p > 1) throw new KilnException("Dropout2d", $"Dropout2d: dropout probability has to be between 0 and 1, but got {p}");
        P = p;
    }

    /// <summary>The drop probability.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Dropout2d(input, P, Training);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"p={Py(P)}, inplace=False";
}

/// <summary>Resizes [N, C, H, W] by a size or a scale factor (<c>nn.Upsample</c>, over <see cref="F.Interpolate"/>).</summary>
public sealed class Upsample(int[]? size = null, double[]? scaleFactor = null, string mode = "nearest", bool alignCorners = false) : Module<Tensor, Tensor>
{
    /// <summary>Upsamples both spatial dims by <paramref name="scaleFactor"/>.</summary>
    public Upsample(double scaleFactor, string mode = "nearest") : this(null, [scaleFactor, scaleFactor], mode) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Interpolate(input, size, scaleFactor, mode, alignCorners);
    /// <inheritdoc/>
    public override string ExtraRepr() =>
        (scaleFactor is { } s ? $"scale_factor={Py(s[0])}" : $"size=({string.Join(", ", size ?? [])})") + $", mode='{mode}'";
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
            throw new KilnException(GetType().Name, $"{GetType().Name}: expected input [N, {NumFeatures}, ...] with {NumFeatures} channels in dim 1, got shape {Compiler.Shapes.ShapeText.Format(input.ShapeArray)}");
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
