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
