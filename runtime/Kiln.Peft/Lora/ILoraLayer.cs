using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Peft;

/// <summary>
/// A layer that carries LoRA adapters over a frozen base layer (<see cref="LoraLinear"/>, <see cref="LoraEmbedding"/>,
/// <see cref="LoraConv1D"/>, <see cref="LoraConv2d"/>). Each adapter adds scale·(B·A) to the base weight's effect;
/// merging folds that product into the weight itself.
/// </summary>
public interface ILoraLayer
{
    /// <summary>The layer this one replaced; it shares the base weight and bias tensors and takes its place again on unload.</summary>
    Module BaseLayer { get; }
    /// <summary>The adapters, which are active, which are merged.</summary>
    LoraAdapters Lora { get; }
    /// <summary>The base weight (merges are written into it).</summary>
    Tensor BaseWeight { get; }
    /// <summary>The base bias, or null.</summary>
    Tensor? BaseBias { get; }

    /// <summary>Adds adapter <paramref name="name"/> of rank <paramref name="r"/> with scale <paramref name="scaling"/>.</summary>
    void AddAdapter(string name, int r, double scaling, double dropout, LoraInit init);
    /// <summary>Removes adapter <paramref name="name"/>'s matrices (it must not be merged).</summary>
    void RemoveAdapter(string name);
    /// <summary>scale·(B·A) of adapter <paramref name="name"/> in <see cref="BaseWeight"/>'s layout, float32.</summary>
    Tensor DeltaWeight(string name);
    /// <summary>Adapter <paramref name="name"/>'s tensors under PEFT's key suffixes (<c>lora_A.weight</c>, <c>lora_embedding_A</c>, …).</summary>
    IEnumerable<(string Suffix, Tensor Tensor)> AdapterTensors(string name);
}
