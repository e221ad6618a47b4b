using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>
/// A function that computes a module's tensor from trainable originals (a parametrization in
/// <c>torch.nn.utils.parametrize</c>'s sense): <see cref="Parametrize.RegisterParametrization"/> replaces the tensor by
/// <see cref="Forward"/> of the originals that <see cref="RightInverse"/> made from its value. A parametrization may hold
/// state of its own (spectral norm's power-iteration vectors are buffers).
/// </summary>
public abstract class Parametrization : Module
{
    /// <summary>The tensor from the originals (one, unless <see cref="RightInverse"/> returns several).</summary>
    public abstract Tensor Forward(IReadOnlyList<Tensor> originals);

    /// <summary>The originals whose <see cref="Forward"/> is <paramref name="value"/>; by default the value itself.</summary>
    public virtual Tensor[] RightInverse(Tensor value) => [value];
}
