namespace Kiln.NN;

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


/// <summary>Rearranges [*, C·r², H, W] into [*, C, H·r, W·r] (<c>nn.PixelShuffle</c>).</summary>
public sealed class PixelShuffle(int upscaleFactor) : Module<Tensor, Tensor>
{
    /// <summary>r.</summary>
    public int UpscaleFactor { get; } = upscaleFactor;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.PixelShuffle(input, UpscaleFactor);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"upscale_factor={UpscaleFactor}";
}

/// <summary>Rearranges [*, C, H·r, W·r] into [*, C·r², H, W] (<c>nn.PixelUnshuffle</c>).</summary>
public sealed class PixelUnshuffle(int downscaleFactor) : Module<Tensor, Tensor>
{
    /// <summary>r.</summary>
    public int DownscaleFactor { get; } = downscaleFactor;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.PixelUnshuffle(input, DownscaleFactor);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"downscale_factor={DownscaleFactor}";
}

/// <summary>Nearest-neighbour upsampling of [N, C, H, W] (<c>nn.UpsamplingNearest2d</c>, the same as <see cref="Upsample"/> with mode nearest).</summary>
public sealed class UpsamplingNearest2d : Module<Tensor, Tensor>
{
    readonly int[]? _size;
    readonly double? _scale;

    /// <summary>Upsamples both spatial dims by <paramref name="scaleFactor"/>.</summary>
    public UpsamplingNearest2d(double scaleFactor) => _scale = scaleFactor;

    /// <summary>Upsamples to height x width.</summary>
    public UpsamplingNearest2d(int height, int width) => _size = [height, width];

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Interpolate(input, _size, _scale is { } s ? [s, s] : null, "nearest");

    /// <inheritdoc/>
    public override string ExtraRepr() => (_scale is { } s ? $"scale_factor={Py(s)}" : $"size={Py(_size!)}") + ", mode='nearest'";
}

/// <summary>
/// Bilinear upsampling of [N, C, H, W] with corners aligned (<c>nn.UpsamplingBilinear2d</c>: <see cref="Upsample"/> with
/// mode bilinear and align_corners=True).
/// </summary>
public sealed class UpsamplingBilinear2d : Module<Tensor, Tensor>
{
    readonly int[]? _size;
    readonly double? _scale;

    /// <summary>Upsamples both spatial dims by <paramref name="scaleFactor"/>.</summary>
    public UpsamplingBilinear2d(double scaleFactor) => _scale = scaleFactor;

    /// <summary>Upsamples to height x width.</summary>
    public UpsamplingBilinear2d(int height, int width) => _size = [height, width];

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Interpolate(input, _size, _scale is { } s ? [s, s] : null, "bilinear", alignCorners: true);

    /// <inheritdoc/>
    public override string ExtraRepr() => (_scale is { } s ? $"scale_factor={Py(s)}" : $"size={Py(_size!)}") + ", mode='bilinear'";
}

/// <summary>Interleaves the channels of [N, C, *] from groups (<c>nn.ChannelShuffle</c>).</summary>
public sealed class ChannelShuffle(int groups) : Module<Tensor, Tensor>
{
    /// <summary>The number of channel groups.</summary>
    public int Groups { get; } = groups;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.ChannelShuffle(input, Groups);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"groups={Groups}";
}

/// <summary>
/// Sliding local blocks of [N, C, H, W] as columns [N, C·kh·kw, L] (<c>nn.Unfold</c>, im2col); see <see cref="F.Unfold"/>.
/// </summary>
public sealed class Unfold(int[] kernelSize, int[]? dilation = null, int[]? padding = null, int[]? stride = null) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Unfold(input, kernelSize, dilation, padding, stride);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size={Setting(kernelSize)}, dilation={Setting(dilation ?? [1])}, padding={Setting(padding ?? [0])}, stride={Setting(stride ?? [1])}";

    internal static string Setting(int[] v) => v.Length == 1 ? v[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : Py(v);
}

/// <summary>
/// Sums columns [N, C·kh·kw, L] back into [N, C, H, W] (<c>nn.Fold</c>, col2im); see <see cref="F.Fold"/>.
/// </summary>
public sealed class Fold(int[] outputSize, int[] kernelSize, int[]? dilation = null, int[]? padding = null, int[]? stride = null) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Fold(input, outputSize, kernelSize, dilation, padding, stride);
    /// <inheritdoc/>
    public override string ExtraRepr() =>
        $"output_size={Unfold.Setting(outputSize)}, kernel_size={Unfold.Setting(kernelSize)}, dilation={Unfold.Setting(dilation ?? [1])}, padding={Unfold.Setting(padding ?? [0])}, stride={Unfold.Setting(stride ?? [1])}";
}

