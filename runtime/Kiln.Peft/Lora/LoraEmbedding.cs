using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Peft;

/// <summary>
/// An <see cref="Embedding"/> with LoRA adapters (PEFT's <c>lora.Embedding</c>): the update looks up rows of Aᵀ
/// [num_embeddings, r] and projects them by Bᵀ; A [r, num_embeddings] and B [dim, r] are plain parameters
/// (<c>lora_embedding_A</c>, <c>lora_embedding_B</c>).
/// </summary>
public sealed class LoraEmbedding : Embedding, ILoraLayer
{
    readonly ParameterDict _a = new(), _b = new();

    /// <summary>Wraps <paramref name="baseLayer"/> (its weight is shared, not copied).</summary>
    public LoraEmbedding(Embedding baseLayer) : base(baseLayer)
    {
        BaseLayer = baseLayer;
        RegisterModule("lora_embedding_A", _a);
        RegisterModule("lora_embedding_B", _b);
    }

    /// <inheritdoc/>
    public Module BaseLayer { get; }
    /// <inheritdoc/>
    public LoraAdapters Lora { get; } = new();
    /// <inheritdoc/>
    public Tensor BaseWeight => Weight;
    /// <inheritdoc/>
    public Tensor? BaseBias => null;

    /// <inheritdoc/>
    public void AddAdapter(string name, int r, double scaling, double dropout, LoraInit init)
    {
        LoraMath.CheckRank("Embedding", name, r);
        var a = Tensor.Empty([r, NumEmbeddings], Weight.DType);
        var b = Tensor.Empty([EmbeddingDim, r], Weight.DType);
        using (Autograd.NoGrad())
            switch (init)
            {
                case LoraInit.Default: Init.Zeros_(a); Init.Normal_(b); break;
                case LoraInit.Gaussian: Init.Normal_(a, 0, 1.0 / r); Init.Zeros_(b); break;
                default: Init.Normal_(a); Init.Normal_(b); break;
            }
        _a[name] = Parameter(a);
        _b[name] = Parameter(b);
        Lora.Add(name, r, scaling);    // PEFT's embedding adapter has no dropout
    }

    /// <inheritdoc/>
    public void RemoveAdapter(string name) { _a.Remove(name); _b.Remove(name); Lora.Remove(name); }

    /// <inheritdoc/>
    public Tensor DeltaWeight(string name) =>
        _b[name].To(DType.Float32).Matmul(_a[name].To(DType.Float32)).T.Mul(Lora.Scaling(name)).Contiguous();

    /// <inheritdoc/>
    public IEnumerable<(string Suffix, Tensor Tensor)> AdapterTensors(string name)
    {
        yield return ("lora_embedding_A", _a[name]);
        yield return ("lora_embedding_B", _b[name]);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var result = base.Forward(input);
        foreach (var n in Lora.Unmerged())
        {
            var rows = F.Embedding(input, _a[n].T, PaddingIdx);
            result = result.Add(rows.Matmul(_b[n].T).Mul(Lora.Scaling(n)).To(result.DType));
        }
        return result;
    }
}
