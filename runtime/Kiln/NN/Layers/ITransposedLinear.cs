namespace Kiln.NN;

/// <summary>
/// A layer computing y = x·W + b with its weight stored [in, out] — the transpose of <see cref="Linear"/>'s layout, as
/// GPT-2's <c>Conv1D</c> keeps it so checkpoints load as they are. Inside a compiled <c>[Model]</c> such a layer is the
/// fused GEMM of a Linear, reading the weight in place (no transposed copy) and handing its gradient back in the stored
/// layout; a subclass that computes otherwise answers false to <see cref="IsPlainLinear"/> and the compiled model runs
/// the eager Forward.
/// </summary>
public interface ITransposedLinear
{
    /// <summary>The weight [in_features, out_features].</summary>
    Tensor Weight { get; }

    /// <summary>The bias [out_features], or null.</summary>
    Tensor? Bias { get; }

    /// <summary>Whether the layer's Forward is exactly x·W + b (false for subclasses that add terms, such as LoRA).</summary>
    bool IsPlainLinear { get; }
}
