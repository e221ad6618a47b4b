using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>
/// A <see cref="Linear"/> that adds low-rank terms to its product, as LoRA does: y = x·Wᵀ + b + Σ scale·(x·Downᵀ)·Upᵀ.
/// A compiled <c>[Model]</c> computes such a layer inside its fused GEMM (forward and backward) when
/// <see cref="FusableTerms"/> gives the terms; when it gives null the compiled model runs the eager Forward instead.
/// </summary>
public interface ILowRankLinear
{
    /// <summary>
    /// The terms the layer's Forward adds now (none: the plain product), or null when its Forward is not that sum — a
    /// dropout on the adapters' input while training, a base layer that computes its own way (quantized), weights
    /// other than float32 or on a GPU.
    /// </summary>
    IReadOnlyList<LowRankTerm>? FusableTerms();
}

/// <summary>One low-rank term of an <see cref="ILowRankLinear"/>: scale·(x·Downᵀ)·Upᵀ, Down [r, in], Up [out, r].</summary>
/// <param name="Down">The down projection [r, in_features] (LoRA's A).</param>
/// <param name="Up">The up projection [out_features, r] (LoRA's B).</param>
/// <param name="Scale">The factor of the term (LoRA's alpha / r).</param>
public readonly record struct LowRankTerm(Tensor Down, Tensor Up, double Scale);
