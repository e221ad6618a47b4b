using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// BERT's <c>intermediate</c>: the widening <c>dense</c> through the config's activation. Compiled inside
/// <see cref="BertLayer"/>, the projection is a GEMM with its bias like every other Linear there; the activation, named by
/// the config, runs as an eager island on its output.
/// </summary>
[Model]
public sealed partial class BertIntermediate : Module
{
    /// <summary>The widening layer of <paramref name="config"/>'s sizes.</summary>
    public BertIntermediate(BertConfig config)
    {
        Dense = new Linear(config.HiddenSize, config.IntermediateSize);
        IntermediateActFn = new ActivationLayer(config.HiddenAct);
    }

    /// <summary>The projection.</summary>
    [PyTorchName("dense")] public Linear Dense { get; private set; }

    /// <summary>The config's activation (no parameters).</summary>
    [PyTorchName("intermediate_act_fn")] public ActivationLayer IntermediateActFn { get; private set; }

    /// <summary>The activation of the projection of <paramref name="x"/> [..., hidden].</summary>
    public Tensor Forward(Tensor x) => IntermediateActFn.Forward(Dense.Forward(x));
}
