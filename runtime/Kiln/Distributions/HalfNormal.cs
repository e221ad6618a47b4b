using System;

namespace Kiln.Distributions;

/// <summary>The half-normal distribution, |N(0, scale²)| (<c>torch.distributions.HalfNormal</c>).</summary>
public sealed class HalfNormal : FoldedDistribution
{
    /// <summary>Half-normals of <paramref name="scale"/>.</summary>
    public HalfNormal(Tensor scale) : base(new Normal(Centre(scale), scale), scale) { }

    /// <summary>scale·√(2/π).</summary>
    public override Tensor Mean => Scale * Math.Sqrt(2 / Math.PI);

    /// <summary>scale²·(1 - 2/π).</summary>
    public override Tensor Variance
    {
        get
        {
            using var square = Scale.Square();
            return square * (1 - 2 / Math.PI);
        }
    }
}
