using System;
using Kiln.Kernels.Special;

namespace Kiln.Distributions;

/// <summary>
/// The gamma distribution with concentration α and rate β (<c>torch.distributions.Gamma</c>). Samples are drawn by
/// Marsaglia and Tsang's method on the host and reparameterized implicitly: a draw x moves with α along its fixed
/// quantile, dx/dα = -(∂P(α, x)/∂α)/p(x; α), computed in float64 (PyTorch fits an approximation of the same derivative,
/// within about 0.5 % of it in the bulk and further off in the far tails).
/// </summary>
public sealed class Gamma : Distribution
{
    /// <summary>Gammas with <paramref name="concentration"/> α and <paramref name="rate"/> β, broadcast.</summary>
    public Gamma(Tensor concentration, Tensor rate) : this(Broadcast("Gamma", concentration, rate)) { }

    Gamma((Tensor Concentration, Tensor Rate) p) : base(p.Concentration.ShapeArray, [])
    {
        Concentration = p.Concentration;
        Rate = p.Rate;
        CheckParameters(("concentration", Concentration, Constraints.Positive), ("rate", Rate, Constraints.Positive));
    }

    /// <summary>α.</summary>
    public Tensor Concentration { get; }

    /// <summary>β.</summary>
    public Tensor Rate { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Concentration / Rate;

    /// <inheritdoc/>
    public override Tensor Variance => Concentration / Rate.Square();

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>Draws of Γ(α, β): standard gamma draws (differentiable in α) divided by β.</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var shapes = Concentration.Expand(ExtendedShape(sampleShape));
        using var standard = StandardGammaRSample(shapes, generator);
        return standard / Rate;
    }

    /// <summary>P(α, βx), the regularized lower incomplete gamma function.</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var scaled = Rate * value;
        return Concentration.Igamma(scaled);
    }

    /// <summary>(α - 1)/β, or 0 for α &lt; 1 (the density is highest at the origin).</summary>
    public override Tensor Mode
    {
        get
        {
            using var shape = Concentration - 1.0;
            using var ratio = shape / Rate;
            return ratio.ClampMin(0);
        }
    }

    /// <summary>α·log β + (α - 1)·log x - βx - log Γ(α).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var logRate = Rate.Log();
        using var first = Concentration * logRate;
        using var shape = Concentration - 1.0;
        using var second = shape.Xlogy(value);
        using var decay = Rate * value;
        using var normaliser = Concentration.Lgamma();
        return first + second - decay - normaliser;
    }

    /// <summary>α - log β + log Γ(α) + (1 - α)·ψ(α).</summary>
    public override Tensor Entropy()
    {
        using var logRate = Rate.Log();
        using var lgamma = Concentration.Lgamma();
        using var digamma = Concentration.Digamma();
        using var weight = 1.0 - Concentration;
        using var last = weight * digamma;
        return Concentration - logRate + lgamma + last;
    }

    /// <summary>
    /// Standard Γ(α, 1) draws for every α of <paramref name="concentration"/> (clamped at the dtype's tiny, as PyTorch
    /// clamps them), differentiable in α by the implicit reparameterization gradient.
    /// </summary>
    internal static Tensor StandardGammaRSample(Tensor concentration, Generator? generator)
    {
        Tensor draws;
        using (Autograd.NoGrad())
        {
            using var raw = StandardGamma(concentration, generator);
            draws = raw.ClampMin(concentration.DType.Tiny());
        }
        return Autograd.Function("standard_gamma", [concentration], ctx => ctx.Save(draws), grad =>
        {
            using var dxda = Tensor.HostElementwise(concentration, draws, grad.DType, IncompleteGamma.SampleGradient);
            return [grad * dxda];
        });
    }

    /// <summary>Standard Γ(α, 1) draws for every α of <paramref name="concentration"/>, on the host (Marsaglia-Tsang; α &lt; 1 boosted).</summary>
    internal static Tensor StandardGamma(Tensor concentration, Generator? generator)
    {
        using var wide = concentration.To(DType.Float64);
        var alphas = wide.ToArray<double>();
        var g = generator ?? Generator.Default;
        var draws = new double[alphas.Length];
        // Uniform and normal variates in blocks from the generator's stream, refilled as rejection consumes them.
        var source = new VariateSource(g);
        for (int i = 0; i < alphas.Length; i++)
        {
            double a = alphas[i];
            if (!(a > 0)) { draws[i] = double.NaN; continue; }
            double boost = 1;
            if (a < 1) { boost = Math.Pow(source.Uniform(), 1 / a); a += 1; }
            double d = a - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
            while (true)
            {
                double x = source.Normal(), v = 1 + c * x;
                if (v <= 0) continue;
                v = v * v * v;
                double u = source.Uniform();
                if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v)))
                {
                    draws[i] = d * v * boost;
                    break;
                }
            }
        }
        using var host = Tensor.From(draws, concentration.ShapeArray);
        using var typed = host.To(concentration.DType);
        return typed.To(concentration.Device);
    }

    /// <summary>x ≥ 0.</summary>
    public override Constraint Support => Constraints.Nonnegative;
}
