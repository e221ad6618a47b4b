using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// GPT-2's MLP: <c>c_fc</c> → the config's activation → <c>c_proj</c> → dropout (<c>resid_pdrop</c>, while training). Compiled inside <see cref="GPT2Block"/>, both
/// projections are fused GEMMs reading their [in, out] weights in place; the config-named activation runs as an eager
/// island between them.
/// </summary>
[Model]
public sealed partial class GPT2Mlp : Module
{
    /// <summary>An MLP of <paramref name="config"/>'s sizes.</summary>
    public GPT2Mlp(GPT2Config config)
    {
        CFc = new Conv1D(config.NEmbd, config.NInner);
        CProj = new Conv1D(config.NInner, config.NEmbd);
        Act = new ActivationLayer(config.ActivationFunction);
        Dropout = new Dropout(config.ResidPdrop);
    }

    /// <summary>The widening projection.</summary>
    [PyTorchName("c_fc")] public Conv1D CFc { get; private set; }
    /// <summary>The narrowing projection.</summary>
    [PyTorchName("c_proj")] public Conv1D CProj { get; private set; }
    /// <summary>The config's activation (no parameters).</summary>
    [PyTorchName("act")] public ActivationLayer Act { get; private set; }
    /// <summary>Dropout on the output while training.</summary>
    [PyTorchName("dropout")] public Dropout Dropout { get; private set; }

    /// <summary>The MLP of <paramref name="x"/> [..., embd].</summary>
    public Tensor Forward(Tensor x) => Dropout.Forward(CProj.Forward(Act.Forward(CFc.Forward(x))));
}
