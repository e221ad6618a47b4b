namespace Kiln.NN;

/// <summary>
/// 3-D convolution over [N, C, D, H, W] (<c>nn.Conv3d</c>): weight [out, in/groups, kD, kH, kW], stride, zero padding,
/// dilation and groups given as one number or one per dim.
/// </summary>
public sealed class Conv3d : ConvBase
{
    /// <summary>A 3-D convolution; each setting one number for all dims or three.</summary>
    public Conv3d(int inChannels, int outChannels, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null,
        int groups = 1, bool bias = true, DType dtype = DType.Float32)
        : base("Conv3d", inChannels, outChannels, Expand(kernelSize, 3, "Conv3d", "kernel_size"), Expand(stride ?? [1], 3, "Conv3d", "stride"),
            Expand(padding ?? [0], 3, "Conv3d", "padding"), null, Expand(dilation ?? [1], 3, "Conv3d", "dilation"), [0, 0, 0], groups, bias, false, dtype)
    { }

    /// <summary>A 3-D convolution with a cubic kernel.</summary>
    public Conv3d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true, DType dtype = DType.Float32)
        : this(inChannels, outChannels, [kernelSize], [stride], [padding], [dilation], groups, bias, dtype) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Conv3d(input, Weight, Bias, Stride, Padding, Dilation, Groups);
}

/// <summary>Transposed 3-D convolution (<c>nn.ConvTranspose3d</c>), weight [in, out/groups, kD, kH, kW].</summary>
public sealed class ConvTranspose3d : ConvBase
{
    /// <summary>A transposed 3-D convolution; each setting one number for all dims or three.</summary>
    public ConvTranspose3d(int inChannels, int outChannels, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? outputPadding = null,
        int groups = 1, bool bias = true, int[]? dilation = null, DType dtype = DType.Float32)
        : base("ConvTranspose3d", inChannels, outChannels, Expand(kernelSize, 3, "ConvTranspose3d", "kernel_size"), Expand(stride ?? [1], 3, "ConvTranspose3d", "stride"),
            Expand(padding ?? [0], 3, "ConvTranspose3d", "padding"), null, Expand(dilation ?? [1], 3, "ConvTranspose3d", "dilation"),
            Expand(outputPadding ?? [0], 3, "ConvTranspose3d", "output_padding"), groups, bias, true, dtype)
    { }

    /// <summary>A transposed 3-D convolution with a cubic kernel.</summary>
    public ConvTranspose3d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0, int groups = 1, bool bias = true, int dilation = 1, DType dtype = DType.Float32)
        : this(inChannels, outChannels, [kernelSize], [stride], [padding], [outputPadding], groups, bias, [dilation], dtype) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.ConvTranspose3d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);
}

/// <summary>Max over sliding 3-D windows (<c>nn.MaxPool3d</c>); stride defaults to the kernel size.</summary>
public sealed class MaxPool3d : Module<Tensor, Tensor>
{
    readonly VolumeSetting _kernel, _stride, _padding, _dilation;
    readonly bool _ceilMode;

    /// <summary>A pool with a cubic window.</summary>
    public MaxPool3d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        : this(new VolumeSetting(kernelSize), new VolumeSetting(stride ?? kernelSize), new VolumeSetting(padding), new VolumeSetting(dilation), ceilMode) { }

    /// <summary>A pool with a (d, h, w) window.</summary>
    public MaxPool3d(int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null, bool ceilMode = false)
        : this(new VolumeSetting(kernelSize), new VolumeSetting(stride ?? kernelSize), new VolumeSetting(padding ?? [0]), new VolumeSetting(dilation ?? [1]), ceilMode) { }

    MaxPool3d(VolumeSetting kernel, VolumeSetting stride, VolumeSetting padding, VolumeSetting dilation, bool ceilMode)
    {
        _kernel = kernel; _stride = stride; _padding = padding; _dilation = dilation; _ceilMode = ceilMode;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.MaxPool3d(input, _kernel.Values, _stride.Values, _padding.Values, _dilation.Values, _ceilMode);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size={_kernel}, stride={_stride}, padding={_padding}, dilation={_dilation}, ceil_mode={Py(_ceilMode)}";
}

/// <summary>Mean over sliding 3-D windows (<c>nn.AvgPool3d</c>); stride defaults to the kernel size.</summary>
public sealed class AvgPool3d : Module<Tensor, Tensor>
{
    readonly VolumeSetting _kernel, _stride, _padding;
    readonly bool _ceilMode, _countIncludePad;

    /// <summary>A pool with a cubic window.</summary>
    public AvgPool3d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : this(new VolumeSetting(kernelSize), new VolumeSetting(stride ?? kernelSize), new VolumeSetting(padding), ceilMode, countIncludePad) { }

    /// <summary>A pool with a (d, h, w) window.</summary>
    public AvgPool3d(int[] kernelSize, int[]? stride = null, int[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
        : this(new VolumeSetting(kernelSize), new VolumeSetting(stride ?? kernelSize), new VolumeSetting(padding ?? [0]), ceilMode, countIncludePad) { }

    AvgPool3d(VolumeSetting kernel, VolumeSetting stride, VolumeSetting padding, bool ceilMode, bool countIncludePad)
    {
        _kernel = kernel; _stride = stride; _padding = padding; _ceilMode = ceilMode; _countIncludePad = countIncludePad;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AvgPool3d(input, _kernel.Values, _stride.Values, _padding.Values, _ceilMode, _countIncludePad);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size={_kernel}, stride={_stride}, padding={_padding}";
}

/// <summary>What the adaptive 3-D pools share: the output size, given as one number or three, and its printing.</summary>
public abstract class AdaptivePool3dBase : Module<Tensor, Tensor>
{
    private protected AdaptivePool3dBase(int[] size) => Size = new VolumeSetting(size);

    private protected VolumeSetting Size { get; }

    /// <inheritdoc/>
    public override string ExtraRepr() => $"output_size={Size}";
}

/// <summary>Average pooling of [N, C, D, H, W] to a fixed output size (<c>nn.AdaptiveAvgPool3d</c>).</summary>
public sealed class AdaptiveAvgPool3d : AdaptivePool3dBase
{
    /// <summary>Pools to size x size x size.</summary>
    public AdaptiveAvgPool3d(int outputSize) : base([outputSize]) { }

    /// <summary>Pools to depth x height x width.</summary>
    public AdaptiveAvgPool3d(int depth, int height, int width) : base([depth, height, width]) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AdaptiveAvgPool3d(input, Size.Values);
}

/// <summary>Max pooling of [N, C, D, H, W] to a fixed output size (<c>nn.AdaptiveMaxPool3d</c>).</summary>
public sealed class AdaptiveMaxPool3d : AdaptivePool3dBase
{
    /// <summary>Pools to size x size x size.</summary>
    public AdaptiveMaxPool3d(int outputSize) : base([outputSize]) { }

    /// <summary>Pools to depth x height x width.</summary>
    public AdaptiveMaxPool3d(int depth, int height, int width) : base([depth, height, width]) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AdaptiveMaxPool3d(input, Size.Values);
}

/// <summary>A 3-D layer setting given as one number or per dim; printed as it was given, as PyTorch prints it.</summary>
internal readonly struct VolumeSetting
{
    readonly bool _single;

    public VolumeSetting(int value) { Values = [value]; _single = true; }

    public VolumeSetting(int[] values) { Values = (int[])values.Clone(); _single = values.Length == 1; }

    /// <summary>The numbers, one or three.</summary>
    public int[] Values { get; }

    public override string ToString() => _single ? Values[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : "(" + string.Join(", ", Values) + ")";
}
