namespace Kiln.NN;

/// <summary>Max over sliding windows (<c>nn.MaxPool2d</c>); stride defaults to the kernel size.</summary>
public sealed class MaxPool2d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        F.MaxPool2d(input, [kernelSize], [stride ?? kernelSize], [padding], [dilation], ceilMode);

    /// <summary>The pooled values and the flat input-plane index of each maximum (<c>return_indices=True</c>).</summary>
    public (Tensor Values, Tensor Indices) ForwardWithIndices(Tensor input) =>
        F.MaxPool2dWithIndices(input, [kernelSize], [stride ?? kernelSize], [padding], [dilation], ceilMode);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}, dilation={dilation}, ceil_mode={Py(ceilMode)}";
}

/// <summary>Mean over sliding windows (<c>nn.AvgPool2d</c>); stride defaults to the kernel size.</summary>
public sealed class AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AvgPool2d(input, [kernelSize], [stride ?? kernelSize], [padding], ceilMode, countIncludePad);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}";

    /// <summary>Whether windows running past the input are kept (output size rounded up).</summary>
    public bool CeilMode => ceilMode;
}

/// <summary>Average pooling to a fixed output size (<c>nn.AdaptiveAvgPool2d</c>).</summary>
public sealed class AdaptiveAvgPool2d : Module<Tensor, Tensor>
{
    readonly int[] _size;
    readonly bool _square;

    /// <summary>Pools to <paramref name="outputSize"/> x <paramref name="outputSize"/>.</summary>
    public AdaptiveAvgPool2d(int outputSize) { _size = [outputSize, outputSize]; _square = true; }

    /// <summary>Pools to height x width.</summary>
    public AdaptiveAvgPool2d(int height, int width) { _size = [height, width]; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AdaptiveAvgPool2d(input, _size);
    /// <inheritdoc/>
    public override string ExtraRepr() => _square ? $"output_size={_size[0]}" : $"output_size={Py(_size)}";
}

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


/// <summary>Averages [N, C, L] into a fixed number of adaptive windows (<c>nn.AdaptiveAvgPool1d</c>).</summary>
public sealed class AdaptiveAvgPool1d(int outputSize) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AdaptiveAvgPool1d(input, outputSize);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"output_size={outputSize}";
}

/// <summary>The largest value of each of a fixed number of adaptive windows over [N, C, L] (<c>nn.AdaptiveMaxPool1d</c>).</summary>
public sealed class AdaptiveMaxPool1d(int outputSize) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AdaptiveMaxPool1d(input, outputSize);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"output_size={outputSize}";
}

/// <summary>Power-average pooling of [N, C, H, W] (<c>nn.LPPool2d</c>); stride defaults to the kernel size.</summary>
public sealed class LPPool2d(double normType, int kernelSize, int? stride = null, bool ceilMode = false) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.LpPool2d(input, normType, [kernelSize], stride is { } s ? [s] : null, ceilMode);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"norm_type={LpPoolText.NormType(normType)}, kernel_size={kernelSize}, stride={(stride is { } s ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : "None")}, ceil_mode={Py(ceilMode)}";
}

/// <summary>Power-average pooling of [N, C, L] (<c>nn.LPPool1d</c>); stride defaults to the kernel size.</summary>
public sealed class LPPool1d(double normType, int kernelSize, int? stride = null, bool ceilMode = false) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.LpPool1d(input, normType, kernelSize, stride, ceilMode);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"norm_type={LpPoolText.NormType(normType)}, kernel_size={kernelSize}, stride={(stride is { } s ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : "None")}, ceil_mode={Py(ceilMode)}";
}

/// <summary>How the LP pools print their norm type: a whole number as an integer, as PyTorch echoes <c>nn.LPPool2d(2, ...)</c>.</summary>
static class LpPoolText
{
    internal static string NormType(double p) => p == System.Math.Floor(p) && System.Math.Abs(p) < 1e15
        ? ((long)p).ToString(System.Globalization.CultureInfo.InvariantCulture)
        : PyFormat.Float(p);
}

/// <summary>The partial inverse of <see cref="MaxPool2d"/> (<c>nn.MaxUnpool2d</c>): <c>Call(input, indices)</c>.</summary>
public sealed class MaxUnpool2d(int kernelSize, int? stride = null, int padding = 0) : Module
{
    /// <summary>Writes each value at its max-pool index; <paramref name="outputSize"/> [.., H, W] picks among the possible sizes.</summary>
    public Tensor Call(Tensor input, Tensor indices, int[]? outputSize = null) =>
        F.MaxUnpool2d(input, indices, [kernelSize], [stride ?? kernelSize], [padding], outputSize);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size=({kernelSize}, {kernelSize}), stride=({stride ?? kernelSize}, {stride ?? kernelSize}), padding=({padding}, {padding})";
}

/// <summary>The partial inverse of <see cref="MaxPool1d"/> (<c>nn.MaxUnpool1d</c>): <c>Call(input, indices)</c>.</summary>
public sealed class MaxUnpool1d(int kernelSize, int? stride = null, int padding = 0) : Module
{
    /// <summary>Writes each value at its max-pool index; <paramref name="outputSize"/> picks among the possible lengths.</summary>
    public Tensor Call(Tensor input, Tensor indices, int? outputSize = null) =>
        F.MaxUnpool1d(input, indices, kernelSize, stride ?? kernelSize, padding, outputSize);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"kernel_size=({kernelSize},), stride=({stride ?? kernelSize},), padding=({padding},)";
}


/// <summary>
/// Fractional max pooling over pseudo-random windows (<c>nn.FractionalMaxPool2d</c>): an output of <c>outputSize</c> or
/// <c>outputRatio</c> of the input, windows of <c>kernelSize</c>, new window starts drawn for every call.
/// </summary>
public sealed class FractionalMaxPool2d : Module<Tensor, Tensor>
{
    readonly int[] _kernel;
    readonly int[]? _size;
    readonly double[]? _ratio;

    /// <summary>Windows of <paramref name="kernelSize"/>, an output of <paramref name="outputSize"/> or <paramref name="outputRatio"/> (exactly one).</summary>
    public FractionalMaxPool2d(int[] kernelSize, int[]? outputSize = null, double[]? outputRatio = null)
    {
        if ((outputSize is null) == (outputRatio is null))
            throw new KilnException("FractionalMaxPool2d", "FractionalMaxPool2d requires specifying either an output size, or a pooling ratio");
        _kernel = (int[])kernelSize.Clone();
        _size = outputSize is null ? null : (int[])outputSize.Clone();
        _ratio = outputRatio is null ? null : (double[])outputRatio.Clone();
    }

    /// <summary>Square windows of <paramref name="kernelSize"/>.</summary>
    public FractionalMaxPool2d(int kernelSize, int[]? outputSize = null, double[]? outputRatio = null) : this([kernelSize], outputSize, outputRatio) { }

    /// <summary>The generator the window starts are drawn from (the default one when null).</summary>
    public Generator? Generator { get; set; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.FractionalMaxPool2d(input, _kernel, _size, _ratio, generator: Generator);

    /// <summary>The pooled values and the flat input-plane index of each maximum (<c>return_indices=True</c>).</summary>
    public (Tensor Values, Tensor Indices) ForwardWithIndices(Tensor input) => F.FractionalMaxPool2dWithIndices(input, _kernel, _size, _ratio, generator: Generator);
}
