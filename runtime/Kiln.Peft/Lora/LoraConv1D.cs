using System.Collections.Generic;
using Kiln.NN;
using Kiln.Transformers;

namespace Kiln.Peft;

/// <summary>
/// GPT-2's <see cref="Conv1D"/> (weight [in, out]) with LoRA adapters — PEFT's <c>fan_in_fan_out</c> case: the update
/// is computed as for a linear layer and transposed when merged.
/// </summary>
public sealed class LoraConv1D : Conv1D, ILoraLayer
{
    readonly LoraPairs _pairs = new();

    /// <summary>Wraps <paramref name="baseLayer"/> (its tensors are shared, not copied).</summary>
    public LoraConv1D(Conv1D baseLayer) : base(baseLayer)
    {
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
        LoraMath.CheckRank("Conv1D", name, r);
        _pairs.Add(Lora, name, r, scaling, dropout, init, () => new Linear(InFeatures, r, bias: false), () => new Linear(r, OutFeatures, bias: false), Weight.DType);
    }

    /// <inheritdoc/>
    public void RemoveAdapter(string name) => _pairs.Remove(Lora, name);

    /// <inheritdoc/>
    public Tensor DeltaWeight(string name) => _pairs.Product(Lora, name).T.Contiguous();

    /// <inheritdoc/>
    public IEnumerable<(string Suffix, Tensor Tensor)> AdapterTensors(string name) => _pairs.Tensors(name);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => _pairs.Forward(Lora, base.Forward(x), x);
}
