using System;

namespace Kiln.Distributions;

/// <summary>The Poisson distribution over counts with rate λ (<c>torch.distributions.Poisson</c>).</summary>
public sealed class Poisson : Distribution
{
    /// <summary>Poissons with rates <paramref name="rate"/>.</summary>
    public Poisson(Tensor rate) : base(rate.ShapeArray, [])
    {
        if (!rate.DType.IsFloatingPoint()) throw new KilnException("Poisson", $"Poisson: parameters must be floating point, got {rate.DType}", KilnErrorKind.DType);
        Rate = rate;
        CheckParameters(("rate", Rate, Constraints.Nonnegative));
    }

    /// <summary>The rates λ.</summary>
    public Tensor Rate { get; }

    /// <inheritdoc/>
    public override Tensor Mean => Rate.To(Rate.DType);

    /// <inheritdoc/>
    public override Tensor Variance => Rate.To(Rate.DType);

    /// <summary>Counts in the rate's dtype, drawn on the host (Knuth's product of uniforms over unit-time pieces of at most 30).</summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        using var rates = Rate.Expand(ExtendedShape(sampleShape));
        using var wide = rates.To(DType.Float64);
        var lambdas = wide.ToArray<double>();
        var counts = new double[lambdas.Length];
        var g = generator ?? Generator.Default;
        for (int i = 0; i < lambdas.Length; i++)
        {
            // A sum of exponential gaps (a Poisson process) until time λ: exact, one uniform per event, split into
            // unit-time pieces so that large rates stay in range.
            double remaining = lambdas[i], k = 0;
            if (!(remaining >= 0)) { counts[i] = double.NaN; continue; }
            while (remaining > 0)
            {
                double piece = Math.Min(remaining, 30), limit = Math.Exp(-piece), product = 1;
                using var block = Tensor.Rand([(int)(piece * 3 + 40)], DType.Float64, g);
                var u = block.ToArray<double>();
                int j = 0;
                while (true)
                {
                    if (j == u.Length) { using var more = Tensor.Rand([64], DType.Float64, g); u = more.ToArray<double>(); j = 0; }
                    product *= u[j++];
                    if (product <= limit) break;
                    k++;
                }
                remaining -= piece;
            }
            counts[i] = k;
        }
        using var host = Tensor.From(counts, rates.ShapeArray);
        using var typed = host.To(Rate.DType);
        return typed.To(Rate.Device);
    }

    /// <summary>⌊λ⌋.</summary>
    public override Tensor Mode => Rate.Floor();

    /// <summary>x·log λ - λ - log Γ(x + 1).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var counts = value.DType.IsFloatingPoint() ? value.To(value.DType) : value.To(Rate.DType);
        using var first = counts.Xlogy(Rate);
        using var plusOne = counts + 1.0;
        using var factorial = plusOne.Lgamma();
        return first - Rate - factorial;
    }

    /// <summary>The Poisson entropy has no closed form; PyTorch does not define it either.</summary>
    public override Tensor Entropy() =>
        throw new KilnException("Poisson", "Poisson: entropy has no closed form (PyTorch leaves it unimplemented too)", KilnErrorKind.Unsupported);

    /// <summary>0, 1, 2, ...</summary>
    public override Constraint Support => Constraints.NonnegativeInteger;
}
