using Kiln.NN;

namespace Kiln.Transformers;

/// <summary>
/// GPT-2's <c>Conv1D</c>: a linear layer whose weight is stored [in, out] (transposed against <see cref="Linear"/>), so
/// checkpoints load as they are; y = x·W + b. Inside a compiled block it is the fused GEMM of a Linear, reading the
/// weight in place (<see cref="ITransposedLinear"/>).
/// </summary>
public class Conv1D : Module<Tensor, Tensor>, ITransposedLinear
{
    /// <summary>A layer from <paramref name="inFeatures"/> to <paramref name="outFeatures"/>, weights N(0, 0.02) as GPT-2 initialises them.</summary>
    public Conv1D(int inFeatures, int outFeatures)
    {
        var w = RegisterParameter("weight", Parameter(Tensor.Empty([inFeatures, outFeatures])))!;
        Init.Normal_(w, 0, 0.02);
        RegisterParameter("bias", Parameter(Tensor.Zeros(outFeatures)));
    }

    /// <summary>A layer sharing <paramref name="source"/>'s tensors (no new storage): the base of layers that wrap it in place, such as LoRA.</summary>
    protected Conv1D(Conv1D source)
    {
        System.ArgumentNullException.ThrowIfNull(source);
        RegisterParameter("weight", source.Weight);
        RegisterParameter("bias", source.Bias);
    }

    /// <summary>Input features.</summary>
    public int InFeatures => Weight.Size(0);
    /// <summary>Output features.</summary>
    public int OutFeatures => Weight.Size(1);

    /// <summary>The weight [in, out].</summary>
    public Tensor Weight => TensorMember("weight")!;
    /// <summary>The bias [out].</summary>
    public Tensor Bias => TensorMember("bias")!;

    Tensor? ITransposedLinear.Bias => Bias;

    /// <inheritdoc/>
    public bool IsPlainLinear => GetType() == typeof(Conv1D);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.Linear(x, Weight.T, Bias);
}
