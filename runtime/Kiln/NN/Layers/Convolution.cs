using System;

namespace Kiln.NN;

/// <summary>What the convolution layers share: channel checks, weight and bias registration, PyTorch's init and printing.</summary>
public abstract class ConvBase : Module<Tensor, Tensor>
{
    private protected ConvBase(string name, int inChannels, int outChannels, int[] kernel, int[] stride, int[] padding, string? paddingText,
        int[] dilation, int[] outputPadding, int groups, bool bias, bool transposed, DType dtype)
    {
        if (inChannels <= 0 || outChannels <= 0)
            throw new KilnException(name, $"{name}: in_channels and out_channels must be positive, got in_channels={inChannels}, out_channels={outChannels}");
        if (groups <= 0) throw new KilnException(name, $"{name}: groups must be a positive integer, got {groups}");
        if (inChannels % groups != 0) throw new KilnException(name, $"{name}: in_channels must be divisible by groups (in_channels={inChannels}, groups={groups})");
        if (outChannels % groups != 0) throw new KilnException(name, $"{name}: out_channels must be divisible by groups (out_channels={outChannels}, groups={groups})");
        foreach (int k in kernel) if (k <= 0) throw new KilnException(name, $"{name}: kernel_size must be positive, got {Py(kernel)}", KilnErrorKind.Shape);
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernel; Stride = stride; Padding = padding; PaddingText = paddingText;
        Dilation = dilation; OutputPadding = outputPadding; Groups = groups; Transposed = transposed;
        var shape = new int[2 + kernel.Length];
        shape[0] = transposed ? inChannels : outChannels;
        shape[1] = transposed ? outChannels / groups : inChannels / groups;
        kernel.CopyTo(shape, 2);
        RegisterParameter("weight", Parameter(Tensor.Empty(shape, dtype)));
        RegisterParameter("bias", bias ? Parameter(Tensor.Empty(new[] { outChannels }, dtype)) : null);
        ResetParameters();
    }

    /// <summary>A layer of <paramref name="source"/>'s geometry sharing its weight and bias tensors (no new storage).</summary>
    private protected ConvBase(ConvBase source)
    {
        InChannels = source.InChannels; OutChannels = source.OutChannels; KernelSize = source.KernelSize; Stride = source.Stride;
        Padding = source.Padding; PaddingText = source.PaddingText; Dilation = source.Dilation; OutputPadding = source.OutputPadding;
        Groups = source.Groups; Transposed = source.Transposed;
        RegisterParameter("weight", source.Weight);
        RegisterParameter("bias", source.Bias);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }
    /// <summary>Output channels.</summary>
    public int OutChannels { get; }
    /// <summary>Kernel size per spatial dim.</summary>
    public int[] KernelSize { get; }
    /// <summary>Stride per spatial dim.</summary>
    public int[] Stride { get; }
    /// <summary>Zero padding per spatial dim (for "same", the symmetric part).</summary>
    public int[] Padding { get; }
    /// <summary>"same" or "valid" when padding was given as a string.</summary>
    public string? PaddingText { get; }
    /// <summary>Dilation per spatial dim.</summary>
    public int[] Dilation { get; }
    /// <summary>Extra output size on one side (transposed convolutions).</summary>
    public int[] OutputPadding { get; }
    /// <summary>Channel groups.</summary>
    public int Groups { get; }
    /// <summary>True for transposed convolutions.</summary>
    public bool Transposed { get; }
    /// <summary>The weight.</summary>
    public Tensor Weight => TensorMember("weight")!;
    /// <summary>The bias, or null.</summary>
    public Tensor? Bias => TensorMember("bias");

    /// <summary>PyTorch's default initialisation: kaiming_uniform(a=√5) for the weight, U(±1/√fan_in) for the bias.</summary>
    public void ResetParameters()
    {
        Init.KaimingUniform_(Weight, Math.Sqrt(5));
        if (Bias is { } b)
        {
            var (fanIn, _) = Init.CalculateFans(Weight);
            double bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
            Init.Uniform_(b, -bound, bound);
        }
    }

    /// <inheritdoc/>
    public override string ExtraRepr()
    {
        var s = $"{InChannels}, {OutChannels}, kernel_size={Py(KernelSize)}, stride={Py(Stride)}";
        if (PaddingText != null) s += $", padding={PaddingText}";
        else if (Array.Exists(Padding, p => p != 0)) s += $", padding={Py(Padding)}";
        if (Array.Exists(Dilation, d => d != 1)) s += $", dilation={Py(Dilation)}";
        if (Array.Exists(OutputPadding, d => d != 0)) s += $", output_padding={Py(OutputPadding)}";
        if (Groups != 1) s += $", groups={Groups}";
        if (Bias is null) s += ", bias=False";
        return s;
    }

    private protected static int[] Expand(int[] v, int dims, string name, string what)
    {
        if (v.Length == dims) return (int[])v.Clone();
        if (v.Length == 1) { var r = new int[dims]; Array.Fill(r, v[0]); return r; }
        throw new KilnException(name, $"{name}: {what} must have 1 or {dims} values, got {v.Length}", KilnErrorKind.Shape);
    }
}

/// <summary>2-D convolution over [N, C, H, W] (<c>nn.Conv2d</c>): stride, zero padding (numbers, "same" or "valid"), dilation, groups.</summary>
public class Conv2d : ConvBase
{
    /// <summary>A 2-D convolution with numeric padding.</summary>
    public Conv2d(int inChannels, int outChannels, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? dilation = null,
        int groups = 1, bool bias = true, DType dtype = DType.Float32)
        : base("Conv2d", inChannels, outChannels, Expand(kernelSize, 2, "Conv2d", "kernel_size"), Expand(stride ?? [1], 2, "Conv2d", "stride"),
            Expand(padding ?? [0], 2, "Conv2d", "padding"), null, Expand(dilation ?? [1], 2, "Conv2d", "dilation"), [0, 0], groups, bias, false, dtype)
    { }

    /// <summary>A 2-D convolution with a square kernel.</summary>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true, DType dtype = DType.Float32)
        : this(inChannels, outChannels, [kernelSize], [stride], [padding], [dilation], groups, bias, dtype) { }

    /// <summary>A 2-D convolution with string padding, "same" or "valid".</summary>
    public Conv2d(int inChannels, int outChannels, int kernelSize, string padding, int stride = 1, int dilation = 1, int groups = 1, bool bias = true, DType dtype = DType.Float32)
        : base("Conv2d", inChannels, outChannels, [kernelSize, kernelSize], [stride, stride],
            F.SamePadding("Conv2d", padding, [stride], [dilation], [kernelSize, kernelSize]).Symmetric, padding, [dilation, dilation], [0, 0], groups, bias, false, dtype)
    { }

    /// <summary>A layer sharing <paramref name="source"/>'s tensors and geometry (no new storage): the base of layers that wrap it in place, such as LoRA.</summary>
    protected Conv2d(Conv2d source) : base(source) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => PaddingText != null
        ? F.Conv2d(input, Weight, Bias, Stride, PaddingText, Dilation, Groups)
        : F.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);
}

/// <summary>1-D convolution over [N, C, L] (<c>nn.Conv1d</c>).</summary>
public sealed class Conv1d : ConvBase
{
    /// <summary>A 1-D convolution.</summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true, DType dtype = DType.Float32)
        : base("Conv1d", inChannels, outChannels, [kernelSize], [stride], [padding], null, [dilation], [0], groups, bias, false, dtype) { }

    /// <summary>A 1-D convolution with "same" or "valid" padding.</summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, string padding, int stride = 1, int dilation = 1, int groups = 1, bool bias = true, DType dtype = DType.Float32)
        : base("Conv1d", inChannels, outChannels, [kernelSize], [stride], F.SamePadding("Conv1d", padding, [stride], [dilation], [kernelSize]).Symmetric,
            padding, [dilation], [0], groups, bias, false, dtype)
    { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => PaddingText != null
        ? F.Conv1d(input, Weight, Bias, Stride[0], PaddingText, Dilation[0], Groups)
        : F.Conv1d(input, Weight, Bias, Stride[0], Padding[0], Dilation[0], Groups);
}

/// <summary>Transposed 2-D convolution (<c>nn.ConvTranspose2d</c>), weight [in, out/groups, kH, kW].</summary>
public sealed class ConvTranspose2d : ConvBase
{
    /// <summary>A transposed 2-D convolution.</summary>
    public ConvTranspose2d(int inChannels, int outChannels, int[] kernelSize, int[]? stride = null, int[]? padding = null, int[]? outputPadding = null,
        int groups = 1, bool bias = true, int[]? dilation = null, DType dtype = DType.Float32)
        : base("ConvTranspose2d", inChannels, outChannels, Expand(kernelSize, 2, "ConvTranspose2d", "kernel_size"), Expand(stride ?? [1], 2, "ConvTranspose2d", "stride"),
            Expand(padding ?? [0], 2, "ConvTranspose2d", "padding"), null, Expand(dilation ?? [1], 2, "ConvTranspose2d", "dilation"),
            Expand(outputPadding ?? [0], 2, "ConvTranspose2d", "output_padding"), groups, bias, true, dtype)
    { }

    /// <summary>A transposed 2-D convolution with a square kernel.</summary>
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0, int groups = 1, bool bias = true, int dilation = 1, DType dtype = DType.Float32)
        : this(inChannels, outChannels, [kernelSize], [stride], [padding], [outputPadding], groups, bias, [dilation], dtype) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);
}

/// <summary>Transposed 1-D convolution (<c>nn.ConvTranspose1d</c>): weight [in_channels, out_channels/groups, k].</summary>
public sealed class ConvTranspose1d : ConvBase
{
    /// <summary>A transposed 1-D convolution.</summary>
    public ConvTranspose1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0, int groups = 1,
        bool bias = true, int dilation = 1, DType dtype = DType.Float32)
        : base("ConvTranspose1d", inChannels, outChannels, [kernelSize], [stride], [padding], null, [dilation], [outputPadding], groups, bias, true, dtype)
    { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        F.ConvTranspose1d(input, Weight, Bias, Stride[0], Padding[0], OutputPadding[0], Groups, Dilation[0]);
}
