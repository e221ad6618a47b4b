using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Peft;

/// <summary>
/// A <see cref="Conv2d"/> with LoRA adapters (PEFT's <c>lora.Conv2d</c>): A is a convolution of the base geometry into
/// r channels, B a 1×1 convolution back to the output channels.
/// </summary>
public sealed class LoraConv2d : Conv2d, ILoraLayer
{
    readonly LoraPairs _pairs = new();

    /// <summary>Wraps <paramref name="baseLayer"/> (its tensors are shared, not copied).</summary>
    public LoraConv2d(Conv2d baseLayer) : base(baseLayer)
    {
        if (baseLayer.Groups != 1) throw new KilnException("LoRA", $"LoRA Conv2d: grouped convolutions (groups={baseLayer.Groups}) are not supported");
        BaseLayer = baseLayer;
        foreach (var (name, module) in _pairs.Members) RegisterModule(name, module);
    }

    /// <inheritdoc/>
    public Module BaseLayer { get; }
    /// <inheritdoc/>
    public LoraAdapters Lora { get; } = new();
    /// <inheritdoc/>
    public Tensor BaseWeight => Weight;
    /// <inheritdoc/>
    public Tensor? BaseBias => Bias;

    /// <inheritdoc/>
    public void AddAdapter(string name, int r, double scaling, double dropout, LoraInit init)
    {
        LoraMath.CheckRank("Conv2d", name, r);
        _pairs.Add(Lora, name, r, scaling, dropout, init,
            () => PaddingText is { } text
                ? new Conv2d(InChannels, r, KernelSize[0], text, Stride[0], Dilation[0], bias: false)
                : new Conv2d(InChannels, r, KernelSize, Stride, Padding, Dilation, bias: false),
            () => new Conv2d(r, OutChannels, 1, bias: false), Weight.DType);
    }

    /// <inheritdoc/>
    public void RemoveAdapter(string name) => _pairs.Remove(Lora, name);

    /// <inheritdoc/>
    public Tensor DeltaWeight(string name) => _pairs.Product(Lora, name).Reshape(Weight.Shape);

    /// <inheritdoc/>
    public IEnumerable<(string Suffix, Tensor Tensor)> AdapterTensors(string name) => _pairs.Tensors(name);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => _pairs.Forward(Lora, base.Forward(input), input);
}
