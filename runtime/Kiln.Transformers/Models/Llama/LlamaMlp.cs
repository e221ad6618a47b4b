using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>Llama's SwiGLU feed-forward: down_proj(silu(gate_proj(x)) · up_proj(x)).</summary>
[Model]
public sealed partial class LlamaMlp : Module<Tensor, Tensor>
{
    /// <summary>The three projections of <paramref name="config"/>'s sizes.</summary>
    public LlamaMlp(LlamaConfig config)
    {
        int h = config.HiddenSize, i = config.IntermediateSize;
        GateProj = new Linear(h, i, config.MlpBias);
        UpProj = new Linear(h, i, config.MlpBias);
        DownProj = new Linear(i, h, config.MlpBias);
    }

    /// <summary>The gate projection (through SiLU).</summary>
    [PyTorchName("gate_proj")] public Linear GateProj { get; private set; }
    /// <summary>The up projection.</summary>
    [PyTorchName("up_proj")] public Linear UpProj { get; private set; }
    /// <summary>The down projection.</summary>
    [PyTorchName("down_proj")] public Linear DownProj { get; private set; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => DownProj.Forward(F.SwiGlu(GateProj.Forward(x), UpProj.Forward(x)));
}
