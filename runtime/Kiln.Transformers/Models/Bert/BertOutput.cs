using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// BERT's post-norm residual step, <c>LayerNorm(dropout(dense(h)) + input)</c> (dropout while training): the layer's <c>attention.output</c> (Hugging Face's
/// BertSelfOutput) and its <c>output</c> (BertOutput) are this one shape.
/// </summary>
[Model]
public sealed partial class BertOutput : Module
{
    /// <summary>A dense layer from <paramref name="inFeatures"/> to the hidden size, and the norm.</summary>
    public BertOutput(int inFeatures, BertConfig config)
    {
        Dense = new Linear(inFeatures, config.HiddenSize);
        LayerNorm = new LayerNorm(config.HiddenSize, config.LayerNormEps);
        Dropout = new Dropout(config.HiddenDropoutProb);
    }

    /// <summary>The projection.</summary>
    [PyTorchName("dense")] public Linear Dense { get; private set; }
    /// <summary>The norm over the residual sum (HF's key name, <c>LayerNorm</c>).</summary>
    [PyTorchName("LayerNorm")] public LayerNorm LayerNorm { get; private set; }
    /// <summary>Dropout on the projection while training (<c>hidden_dropout_prob</c>).</summary>
    [PyTorchName("dropout")] public Dropout Dropout { get; private set; }

    /// <summary>LayerNorm(dropout(dense(<paramref name="hidden"/>)) + <paramref name="input"/>).</summary>
    public Tensor Forward(Tensor hidden, Tensor input) => LayerNorm.Forward(Dropout.Forward(Dense.Forward(hidden)) + input);
}
