using Kiln.Kernels.Special;

namespace Kiln.Distributions;

/// <summary>
/// The Dirichlet distribution over the probability simplex of K categories, with concentrations α [..., K]
/// (<c>torch.distributions.Dirichlet</c>). Draws are normalised gamma draws from the host's sampler, reparameterized as
/// PyTorch's are: each marginal xᵢ ~ Beta(αᵢ, Σα - αᵢ) moves along its fixed quantile when αᵢ moves and the others share
/// the change in proportion (the marginal derivative in float64; PyTorch fits an approximation of it).
/// </summary>
public sealed class Dirichlet : Distribution
{
    /// <summary>Dirichlets of <paramref name="concentration"/> [..., K] (K ≥ 1, every α &gt; 0).</summary>
    public Dirichlet(Tensor concentration) : base(BatchOf(concentration), [concentration.Size(-1)])
    {
        Concentration = concentration;
        CheckParameters(("concentration", Concentration, Constraints.Independent(Constraints.Positive, 1)));
    }

    /// <summary>α [..., K].</summary>
    public Tensor Concentration { get; }

    /// <summary>α / Σα.</summary>
    public override Tensor Mean
    {
        get
        {
            using var total = Concentration.Sum(-1, keepDim: true);
            return Concentration / total;
        }
    }

    /// <summary>α(α₀ - α) / (α₀²(α₀ + 1)) with α₀ = Σα.</summary>
    public override Tensor Variance
    {
        get
        {
            using var total = Concentration.Sum(-1, keepDim: true);
            using var rest = total - Concentration;
            using var numerator = Concentration * rest;
            using var square = total.Square();
            using var plusOne = total + 1.0;
            using var denominator = square * plusOne;
            return numerator / denominator;
        }
    }

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>Gamma(α, 1) draws normalised over the last dim, differentiable in α.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var shapes = Concentration.Expand(ExtendedShape(sampleShape));
        return RSampleOf(shapes, generator);
    }

    /// <summary>
    /// Dirichlet draws for the concentrations <paramref name="alpha"/> [..., K] (already at the sample shape): dxⱼ/dαᵢ =
    /// gᵢ·(δᵢⱼ - xⱼ) with gᵢ the marginal gradient of <see cref="IncompleteBeta.DirichletGradient"/> (PyTorch's backward).
    /// </summary>
    internal static Tensor RSampleOf(Tensor alpha, Generator? generator)
    {
        Tensor x;
        using (Autograd.NoGrad())
        {
            using var draws = Gamma.StandardGamma(alpha, generator);
            using var gammas = draws.ClampMin(alpha.DType.Tiny());   // as PyTorch: a tiny α's draw underflowing to 0 cannot make 0/0
            using var sum = gammas.Sum(-1, keepDim: true);
            x = gammas / sum;
        }
        return Autograd.Function("dirichlet", [alpha], ctx => ctx.Save(x), grad =>
        {
            using var totals = alpha.Sum(-1, keepDim: true);
            using var total = totals.Expand(alpha.ShapeArray);
            using var marginal = Tensor.HostElementwise(x, alpha, total, grad.DType, IncompleteBeta.DirichletGradient);
            using var weighted = x * grad;
            using var mixed = weighted.Sum(-1, keepDim: true);
            using var centred = grad - mixed;
            return [marginal * centred];
        });
    }

    /// <summary>
    /// (α - 1)/Σ(α - 1) with α - 1 clamped at 0; where every α &lt; 1 the mass piles on a vertex: the one-hot of the largest
    /// clamped coordinate (PyTorch's rule, which puts a tie on the first).
    /// </summary>
    public override Tensor Mode => ModeOf(Concentration);

    /// <summary>The mode rule for concentrations α [..., K] (Beta's is the first coordinate of Dirichlet(α, β)'s).</summary>
    internal static Tensor ModeOf(Tensor concentration)
    {
        using var less = concentration - 1.0;
        using var clamped = less.ClampMin(0);
        using var total = clamped.Sum(-1, keepDim: true);
        using var interior = clamped / total;
        using var below = concentration.Lt(1);
        using var allBelow = below.All(-1, keepDim: true);
        using var corner = interior.ArgMax(-1);
        using var hot = NN.F.OneHot(corner, concentration.Size(-1));
        using var vertex = hot.To(interior.DType);
        return Tensor.Where(allBelow, vertex, interior);
    }

    /// <summary>Σ (α - 1)·log x + log Γ(α₀) - Σ log Γ(α).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var shape = Concentration - 1.0;
        using var terms = shape.Xlogy(value);
        using var kernel = terms.Sum(-1);
        using var total = Concentration.Sum(-1);
        using var lgammaTotal = total.Lgamma();
        using var lgammas = Concentration.Lgamma();
        using var lgammaSum = lgammas.Sum(-1);
        return kernel + lgammaTotal - lgammaSum;
    }

    /// <summary>log B(α) + (α₀ - K)·ψ(α₀) - Σ (α - 1)·ψ(α).</summary>
    public override Tensor Entropy()
    {
        int k = Concentration.Size(-1);
        using var total = Concentration.Sum(-1);
        using var lgammas = Concentration.Lgamma();
        using var lgammaSum = lgammas.Sum(-1);
        using var lgammaTotal = total.Lgamma();
        using var psiTotal = total.Digamma();
        using var excess = total - k;
        using var spread = excess * psiTotal;
        using var shape = Concentration - 1.0;
        using var psi = Concentration.Digamma();
        using var weighted = shape * psi;
        using var weightedSum = weighted.Sum(-1);
        return lgammaSum - lgammaTotal + spread - weightedSum;
    }

    static int[] BatchOf(Tensor concentration)
    {
        if (!concentration.DType.IsFloatingPoint()) throw new KilnException("Dirichlet", $"Dirichlet: parameters must be floating point, got {concentration.DType}", KilnErrorKind.DType);
        if (concentration.Dim < 1) throw new KilnException("Dirichlet", "Dirichlet: concentration must have at least one dimension (the categories)", KilnErrorKind.Shape);
        return concentration.ShapeArray[..^1];
    }

    /// <summary>The probability simplex.</summary>
    public override Constraint Support => Constraints.Simplex;
}
