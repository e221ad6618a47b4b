using System;

namespace Kiln.NN;

/// <summary>y = x·Wᵀ + b (<c>nn.Linear</c>); weight [out, in] and bias drawn from U(-1/√in, 1/√in) as in PyTorch.</summary>
public class Linear : Module<Tensor, Tensor>
{
    /// <summary>A linear layer from <paramref name="inFeatures"/> to <paramref name="outFeatures"/>.</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, DType dtype = DType.Float32)
    {
        if (inFeatures < 0 || outFeatures < 0)
            throw new KilnException("Linear", $"Linear: in_features and out_features must be non-negative, got in_features={inFeatures}, out_features={outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        RegisterParameter("weight", Parameter(Tensor.Empty(new[] { outFeatures, inFeatures }, dtype)));
        RegisterParameter("bias", bias ? Parameter(Tensor.Empty(new[] { outFeatures }, dtype)) : null);
        ResetParameters();
    }

    /// <summary>A layer sharing <paramref name="source"/>'s weight and bias tensors (no new storage, no initialisation): the base of layers that wrap a linear layer in place, such as LoRA.</summary>
    /// <remarks>Every parameter and buffer of <paramref name="source"/> is shared under its name, so a wrapped quantized layer's
    /// statistics move and save with the wrapper.</remarks>
    protected Linear(Linear source)
    {
        ArgumentNullException.ThrowIfNull(source);
        InFeatures = source.InFeatures;
        OutFeatures = source.OutFeatures;
        foreach (var s in source.Slots)
            if (s.Kind == SlotKind.Parameter) RegisterParameter(s.Name, s.Value as Tensor);
            else if (s.Kind == SlotKind.Buffer) RegisterBuffer(s.Name, s.Value as Tensor, s.Persistent);
    }

    /// <summary>A layer over given tensors (no initialisation): the base of layers that store their weight another way, such as quantized ones.</summary>
    protected Linear(int inFeatures, int outFeatures, Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        RegisterParameter("weight", weight);
        RegisterParameter("bias", bias);
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }
    /// <summary>Output features.</summary>
    public int OutFeatures { get; }
    /// <summary>The weight [out_features, in_features].</summary>
    public Tensor Weight => TensorMember("weight")!;
    /// <summary>The bias [out_features], or null.</summary>
    public Tensor? Bias => TensorMember("bias");

    /// <summary>PyTorch's default initialisation: kaiming_uniform(a=√5) for the weight, U(±1/√fan_in) for the bias.</summary>
    public void ResetParameters()
    {
        Init.KaimingUniform_(Weight, Math.Sqrt(5));
        if (Bias is { } b)
        {
            double bound = InFeatures > 0 ? 1 / Math.Sqrt(InFeatures) : 0;
            Init.Uniform_(b, -bound, bound);
        }
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Linear(input, Weight, Bias);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={Py(Bias is not null)}";
}

/// <summary>Returns its input unchanged (<c>nn.Identity</c>).</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input;
}

/// <summary>Flattens dims <c>startDim..endDim</c> into one (<c>nn.Flatten</c>; by default all but the batch dim).</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Flatten(startDim, endDim);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"start_dim={startDim}, end_dim={endDim}";
}

/// <summary>Splits dim <c>dim</c> into the given sizes (<c>nn.Unflatten</c>), the inverse of <see cref="Flatten"/>.</summary>
public sealed class Unflatten(int dim, int[] unflattenedSize) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Unflatten(dim, unflattenedSize);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"dim={dim}, unflattened_size={Py(unflattenedSize)}";
}

/// <summary>
/// A bilinear map y = x1ᵀ·A·x2 + b per output feature (<c>nn.Bilinear</c>): weight [out, in1, in2] and bias drawn from
/// U(-1/√in1, 1/√in1), as PyTorch's.
/// </summary>
public sealed class Bilinear : Module
{
    /// <summary>A bilinear layer from <paramref name="in1Features"/> and <paramref name="in2Features"/> to <paramref name="outFeatures"/>.</summary>
    public Bilinear(int in1Features, int in2Features, int outFeatures, bool bias = true, DType dtype = DType.Float32)
    {
        if (in1Features <= 0 || in2Features <= 0 || outFeatures <= 0)
            throw new KilnException("Bilinear", $"Bilinear: feature counts must be positive, got {in1Features}, {in2Features}, {outFeatures}");
        In1Features = in1Features; In2Features = in2Features; OutFeatures = outFeatures;
        double bound = 1 / System.Math.Sqrt(in1Features);
        var w = RegisterParameter("weight", Parameter(Tensor.Empty([outFeatures, in1Features, in2Features], dtype)))!;
        Init.Uniform_(w, -bound, bound);
        var b = RegisterParameter("bias", bias ? Parameter(Tensor.Empty([outFeatures], dtype)) : null);
        if (b is not null) Init.Uniform_(b, -bound, bound);
    }

    /// <summary>Size of the first input's last dim.</summary>
    public int In1Features { get; }
    /// <summary>Size of the second input's last dim.</summary>
    public int In2Features { get; }
    /// <summary>Size of the output's last dim.</summary>
    public int OutFeatures { get; }
    /// <summary>A [out, in1, in2].</summary>
    public Tensor Weight => TensorMember("weight")!;
    /// <summary>b [out], or null.</summary>
    public Tensor? Bias => TensorMember("bias");

    /// <summary>The map of <paramref name="input1"/> [*, in1] and <paramref name="input2"/> [*, in2].</summary>
    public Tensor Forward(Tensor input1, Tensor input2) => F.Bilinear(input1, input2, Weight, Bias);
    /// <summary>Runs the layer (PyTorch's <c>layer(x1, x2)</c>).</summary>
    public Tensor Call(Tensor input1, Tensor input2) => Forward(input1, input2);
    /// <inheritdoc/>
    public override string ExtraRepr() => $"in1_features={In1Features}, in2_features={In2Features}, out_features={OutFeatures}, bias={Py(Bias is not null)}";
}
