namespace Kiln.Distributions;

/// <summary>
/// The logistic-normal distribution on the K-simplex (<c>torch.distributions.LogisticNormal</c>): a normal vector of
/// K - 1 entries pushed through <see cref="StickBreakingTransform"/>, a prior for proportions (topic models) with
/// correlations a Dirichlet cannot express. Samples are reparameterized.
/// </summary>
public sealed class LogisticNormal : TransformedDistribution
{
    /// <summary>Normals N(<paramref name="loc"/>, <paramref name="scale"/>²) over the last dim [..., K - 1], made simplex points [..., K].</summary>
    public LogisticNormal(Tensor loc, Tensor scale)
        : base(new Independent(new Normal(loc, scale), 1), new StickBreakingTransform()) { }

    /// <summary>The underlying normals' means [..., K - 1].</summary>
    public Tensor Loc => ((Normal)((Independent)Base).Base).Loc;

    /// <summary>The underlying normals' standard deviations [..., K - 1].</summary>
    public Tensor Scale => ((Normal)((Independent)Base).Base).Scale;

    /// <summary>The probability simplex.</summary>
    public override Constraint Support => Constraints.Simplex;
}
