using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Peft;

/// <summary>
/// A <see cref="Linear"/> with LoRA adapters (PEFT's <c>lora.Linear</c>): y = x·Wᵀ + b + Σ scale·B(A(dropout(x))).
/// It shares the replaced layer's weight and bias (and a quantized layer's statistics), so the base state dict keys stay
/// as they were; over a <c>Linear4bit</c> base it is QLoRA.
/// </summary>
public sealed class LoraLinear : Linear, ILoraLayer, ILowRankLinear
{
    readonly LoraPairs _pairs = new();

    /// <summary>Wraps <paramref name="baseLayer"/> (its tensors are shared, not copied).</summary>
    public LoraLinear(Linear baseLayer) : base(baseLayer)
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
        LoraMath.CheckRank("Linear", name, r);
        _pairs.Add(Lora, name, r, scaling, dropout, init, () => new Linear(InFeatures, r, bias: false), () => new Linear(r, OutFeatures, bias: false), Weight.DType.IsFloatingPoint() ? Weight.DType : DType.Float32);
    }

    /// <inheritdoc/>
    public void RemoveAdapter(string name) => _pairs.Remove(Lora, name);

    /// <inheritdoc/>
    public Tensor DeltaWeight(string name) => _pairs.Product(Lora, name);

    /// <inheritdoc/>
    public IEnumerable<(string Suffix, Tensor Tensor)> AdapterTensors(string name) => _pairs.Tensors(name);

    /// <inheritdoc/>
    /// <remarks>Null over a base that computes its own way (quantized: QLoRA runs eagerly).</remarks>
    public IReadOnlyList<LowRankTerm>? FusableTerms() =>
        BaseLayer.GetType() == typeof(Linear) && LoraPairs.FusableWeight(Weight) ? _pairs.Terms(Lora) : null;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => _pairs.Forward(Lora, ((Linear)BaseLayer).Forward(input), input);   // a quantized base computes its own way
}
