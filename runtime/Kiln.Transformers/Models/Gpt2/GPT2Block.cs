using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// One GPT-2 block: x + attn(ln_1(x)), then + mlp(ln_2(·)). A [Model] class: <c>Compile()</c> runs it (attention inlined)
/// by generated kernels, one autograd node.
/// </summary>
[Model]
public sealed partial class GPT2Block : Module
{
    /// <summary>Block <paramref name="layerIdx"/> of <paramref name="config"/>'s sizes.</summary>
    public GPT2Block(GPT2Config config, int layerIdx)
    {
        Ln1 = new LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        Attn = new GPT2Attention(config, layerIdx);
        Ln2 = new LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        Mlp = new GPT2Mlp(config);
    }

    /// <summary>The norm before attention.</summary>
    [PyTorchName("ln_1")] public LayerNorm Ln1 { get; private set; }
    /// <summary>The attention.</summary>
    [PyTorchName("attn")] public GPT2Attention Attn { get; private set; }
    /// <summary>The norm before the MLP.</summary>
    [PyTorchName("ln_2")] public LayerNorm Ln2 { get; private set; }
    /// <summary>The MLP.</summary>
    [PyTorchName("mlp")] public GPT2Mlp Mlp { get; private set; }

    /// <summary>The block over <paramref name="x"/> [batch, length, embd] (see <see cref="GPT2Attention.Forward"/> for the mask).</summary>
    public Tensor Forward(Tensor x, Tensor? mask)
    {
        var h = x + Attn.Forward(Ln1.Forward(x), mask);
        return h + Mlp.Forward(Ln2.Forward(h));
    }

    /// <summary>The block with <paramref name="cache"/> (layer <paramref name="layer"/>).</summary>
    internal Tensor Step(Tensor x, Tensor? mask, KvCache cache, int layer)
    {
        var h = x + Attn.Step(Ln1.Forward(x), mask, cache, layer);
        return h + Mlp.Forward(Ln2.Forward(h));
    }
}
