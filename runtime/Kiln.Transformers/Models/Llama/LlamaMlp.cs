using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>Llama's SwiGLU feed-forward: down_proj(silu(gate_proj(x)) · up_proj(x)).</summary>
public sealed class LlamaMlp : Module<Tensor, Tensor>
{
    /// <summary>The three projections of <paramref name="config"/>'s sizes.</summary>
    public LlamaMlp(LlamaConfig config)
    {
        int h = config.HiddenSize, i = config.IntermediateSize;
        RegisterModule("gate_proj", new Linear(h, i, config.MlpBias));
        RegisterModule("up_proj", new Linear(h, i, config.MlpBias));
        RegisterModule("down_proj", new Linear(i, h, config.MlpBias));
    }

    /// <summary>The gate projection (through SiLU).</summary>
    public Linear GateProj => Child<Linear>("gate_proj");
    /// <summary>The up projection.</summary>
    public Linear UpProj => Child<Linear>("up_proj");
    /// <summary>The down projection.</summary>
    public Linear DownProj => Child<Linear>("down_proj");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => DownProj.Forward(F.SwiGlu(GateProj.Forward(x), UpProj.Forward(x)));
}
