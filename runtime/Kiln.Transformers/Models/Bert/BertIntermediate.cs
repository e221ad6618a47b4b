using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>BERT's <c>intermediate</c>: the widening <c>dense</c> through the config's activation.</summary>
public sealed class BertIntermediate : Module<Tensor, Tensor>
{
    readonly string _activation;

    /// <summary>The widening layer of <paramref name="config"/>'s sizes.</summary>
    public BertIntermediate(BertConfig config)
    {
        _activation = config.HiddenAct;
        Dense = new Linear(config.HiddenSize, config.IntermediateSize);
    }

    /// <summary>The projection.</summary>
    [PyTorchName("dense")] public Linear Dense { get; private set; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Activations.Apply(_activation, Dense.Forward(x));
}
