namespace Kiln.Distributions;

/// <summary>The half-Cauchy distribution, |Cauchy(0, scale)| (<c>torch.distributions.HalfCauchy</c>).</summary>
public sealed class HalfCauchy : FoldedDistribution
{
    /// <summary>Half-Cauchy distributions of <paramref name="scale"/>.</summary>
    public HalfCauchy(Tensor scale) : base(new Cauchy(Centre(scale), scale), scale) { }

    /// <summary>Infinite, as PyTorch.</summary>
    public override Tensor Mean => Filled(double.PositiveInfinity, Scale);

    /// <summary>Infinite, as PyTorch.</summary>
    public override Tensor Variance => Filled(double.PositiveInfinity, Scale);
}
