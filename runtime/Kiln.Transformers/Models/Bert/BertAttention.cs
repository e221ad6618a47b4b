using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>BERT's <c>attention</c>: self-attention (<c>self</c>), then its residual output (<c>output</c>).</summary>
[Model]
public sealed partial class BertAttention : Module
{
    /// <summary>The attention of <paramref name="config"/>'s sizes.</summary>
    public BertAttention(BertConfig config)
    {
        Self = new BertSelfAttention(config);
        Output = new BertOutput(config.HiddenSize, config);
    }

    /// <summary>The heads' attention.</summary>
    [PyTorchName("self")] public BertSelfAttention Self { get; private set; }
    /// <summary>The projection, residual add and norm after it.</summary>
    [PyTorchName("output")] public BertOutput Output { get; private set; }

    /// <summary>The attention block over <paramref name="x"/>; <paramref name="mask"/> additive [batch, 1, 1, length] or null.</summary>
    public Tensor Forward(Tensor x, Tensor? mask) => Output.Forward(Self.Forward(x, mask), x);
}
