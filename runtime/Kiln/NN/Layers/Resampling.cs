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

