using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// One BERT encoder layer, post-norm, in Hugging Face's module tree: <c>attention</c> (<c>self.query/key/value</c>,
/// <c>output.dense</c> + <c>output.LayerNorm</c> over the residual), then <c>intermediate.dense</c> → activation →
/// <c>output.dense</c> + <c>output.LayerNorm</c>. A [Model] class: <c>Compile()</c> runs it (its attention and outputs
/// inlined) by generated kernels, one autograd node.
/// </summary>
[Model]
public sealed partial class BertLayer : Module
{
    /// <summary>A layer of <paramref name="config"/>'s sizes.</summary>
    public BertLayer(BertConfig config)
    {
        Attention = new BertAttention(config);
        Intermediate = new BertIntermediate(config);
        Output = new BertOutput(config.IntermediateSize, config);
    }

    /// <summary>The attention with its residual output.</summary>
    [PyTorchName("attention")] public BertAttention Attention { get; private set; }
    /// <summary>The widening layer and activation.</summary>
    [PyTorchName("intermediate")] public BertIntermediate Intermediate { get; private set; }
    /// <summary>The narrowing layer, residual add and norm.</summary>
    [PyTorchName("output")] public BertOutput Output { get; private set; }

    /// <summary>The layer over <paramref name="x"/> [batch, length, hidden]; <paramref name="mask"/> additive [batch, 1, 1, length] or null.</summary>
    public Tensor Forward(Tensor x, Tensor? mask)
    {
        var a = Attention.Forward(x, mask);
        return Output.Forward(Intermediate.Forward(a), a);
    }
}
