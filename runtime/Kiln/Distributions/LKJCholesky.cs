using System;

namespace Kiln.Distributions;

/// <summary>
/// The LKJ distribution over lower Cholesky factors L of d × d correlation matrices (<c>torch.distributions.LKJCholesky</c>):
/// the density of L·Lᵀ is proportional to det(L·Lᵀ)^(η - 1), uniform over correlation matrices at η = 1. Draws use the
/// onion method (Lewandowski, Kurowicka and Joe, section 3.2): row k (k ≥ 1) is a point on a sphere scaled by √y with
/// y ~ Beta(k/2, η + (d - 2)/2 - (k - 1)/2), so every correlation has the LKJ marginal Beta(η - 1 + d/2) on (-1, 1).
/// PyTorch 1.13-2.x draws row k's y from Beta(k - ½, ...) instead (its port of NumPyro's sampler drops a factor ½),
/// whose correlations beyond the second row are too spread for the density its <c>log_prob</c> computes; Kiln draws
/// from that density. PyTorch gives it no reparameterized sampler, mean, variance or entropy, and neither does Kiln.
/// </summary>
public sealed class LKJCholesky : Distribution
{
    const string Op = "LKJCholesky";

    /// <summary>LKJ distributions of <paramref name="dimension"/> × <paramref name="dimension"/> factors with concentration η.</summary>
    public LKJCholesky(int dimension, Tensor concentration) : base(Checked(dimension, concentration), [dimension, dimension])
    {
        Dimension = dimension;
        Concentration = concentration;
        // Row k's squared off-diagonal length is Beta(k/2, η + (d - 2)/2 - (k - 1)/2) for k ≥ 1 (row 0 draws row 1's, unused).
        using var halfSteps = HalfSteps(dimension, concentration);   // (k - 1)/2
        using var first = halfSteps + 0.5;
        using var marginal = concentration + 0.5 * (dimension - 2);
        using var column = marginal.Unsqueeze(-1);
        using var second = column - halfSteps;
        _beta = new Beta(first, second);
        CheckParameters(("concentration", Concentration, Constraints.Positive));
    }

    /// <summary>LKJ distributions with a number for η.</summary>
    public LKJCholesky(int dimension, double concentration = 1.0) : this(dimension, Tensor.Full([], concentration)) { }

    readonly Beta _beta;

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>η (positive).</summary>
    public Tensor Concentration { get; }

    /// <inheritdoc/>
    public override Tensor Mean => throw NotClosedForm("mean", "mean");

    /// <inheritdoc/>
    public override Tensor Variance => throw NotClosedForm("variance", "variance");

    /// <summary>Onion-method draws (no gradient).</summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        var shape = ExtendedShape(sampleShape);
        using var y = _beta.Sample(sampleShape, generator);             // sample + batch + [d]
        using var yColumn = y.Unsqueeze(-1);
        using var normals = StandardNormal(shape, Concentration, generator);
        using var lower = normals.Tril(-1);
        using var norms = lower.Norm(2, [-1], keepDim: true);
        // Row 0 has no entries below the diagonal: its direction is 0/0, set to zero as PyTorch does.
        using var zero = norms.Eq(0);
        using var one = Tensor.OnesLike(norms);
        using var safe = Tensor.Where(zero, one, norms);
        using var sphere = lower / safe;
        using var root = yColumn.Sqrt();
        using var w = root * sphere;
        using var squared = w.Square();
        using var rowSums = squared.Sum(-1);
        using var rest = 1.0 - rowSums;
        using var clamped = rest.Clamp(min: Concentration.DType.Tiny());
        using var diagonal = clamped.Sqrt();
        using var diagMatrix = diagonal.DiagEmbed();
        return w + diagMatrix;
    }

    /// <summary>Σᵢ₌₁^(d-1) (2(η - 1) + d - 1 - i)·log Lᵢᵢ minus the normaliser ½(d - 1)·log π + log Γ_(d-1)(α - ½) - (d - 1)·log Γ(α), α = η + (d - 1)/2.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        int d = Dimension;
        using var diagonal = value.Diagonal(0, -2, -1);
        using var tail = diagonal.Narrow(-1, 1, d - 1);
        using var logs = tail.Log();
        using var orders = Tensor.Arange(2, d + 1).To(Concentration.DType).To(Concentration.Device);
        using var twice = (Concentration - 1.0) * 2.0;
        using var column = twice.Unsqueeze(-1);
        using var shifted = column + d;
        using var order = shifted - orders;
        using var weighted = order * logs;
        using var unnormalised = weighted.Sum(-1);
        int dm1 = d - 1;
        using var alpha = Concentration + 0.5 * dm1;
        using var lgamma = alpha.Lgamma();
        using var denominator = lgamma * dm1;
        using var shiftedAlpha = alpha - 0.5;
        using var numerator = shiftedAlpha.Mvlgamma(dm1);
        using var normaliser = numerator - denominator;
        using var withPi = normaliser + 0.5 * dm1 * Math.Log(Math.PI);
        return unnormalised - withPi;
    }

    /// <inheritdoc/>
    public override Tensor Entropy() => throw NotClosedForm("entropy", "entropy");

    /// <summary>(k - 1)/2 for rows k = 0..d - 1, row 0 taking row 1's (its draw is not used).</summary>
    static Tensor HalfSteps(int d, Tensor like)
    {
        var values = new double[d];
        for (int k = 1; k < d; k++) values[k] = (k - 1) / 2.0;
        using var host = Tensor.From(values, d);
        using var typed = host.To(like.DType);
        return typed.To(like.Device);
    }

    static int[] Checked(int dimension, Tensor concentration)
    {
        if (dimension < 2) throw new KilnException(Op, $"{Op}: expected dim to be an integer greater than or equal to 2, found dim={dimension}");
        if (!concentration.DType.IsFloatingPoint())
            throw new KilnException(Op, $"{Op}: concentration must be floating point, got {concentration.DType}", KilnErrorKind.DType);
        return concentration.ShapeArray;
    }

    /// <summary>Cholesky factors of correlation matrices.</summary>
    public override Constraint Support => Constraints.CorrCholesky;
}
