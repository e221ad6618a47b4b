using System;

namespace Kiln;

// torch's in-place random fills beyond uniform and normal (exponential_, geometric_, cauchy_, log_normal_) and the
// element-wise samplers poisson and binomial: each an inverse-CDF transform of Kiln's uniform or normal draws (or the
// distribution's own sampler), written into this tensor.
public sealed partial class Tensor
{
    /// <summary>Fills with Exponential(<paramref name="lambd"/>) draws, −log(1 − u)/λ (<c>Tensor.exponential_</c>).</summary>
    public Tensor Exponential_(double lambd = 1, Generator? generator = null)
    {
        if (!(lambd > 0)) throw new KilnException("exponential_", $"exponential_ expects lambd > 0.0, but found lambd={lambd}");
        return FillFromUniform("exponential_", generator, u => -Math.Log(1 - u) / lambd);
    }

    /// <summary>Fills with Geometric(<paramref name="p"/>) draws: the number of trials to the first success, ≥ 1 (<c>Tensor.geometric_</c>).</summary>
    public Tensor Geometric_(double p, Generator? generator = null)
    {
        if (!(p > 0 && p <= 1)) throw new KilnException("geometric_", $"geometric_ expects p to be in (0, 1], but got p={p}");
        return FillFromUniform("geometric_", generator, u => p == 1 ? 1 : Math.Ceiling(Math.Log(1 - u) / Math.Log(1 - p)) is var k && k < 1 ? 1 : k);
    }

    /// <summary>Fills with Cauchy(<paramref name="median"/>, <paramref name="sigma"/>) draws (<c>Tensor.cauchy_</c>).</summary>
    public Tensor Cauchy_(double median = 0, double sigma = 1, Generator? generator = null) =>
        FillFromUniform("cauchy_", generator, u => median + sigma * Math.Tan(Math.PI * (u - 0.5)));

    /// <summary>Fills with log-normal draws exp(N(<paramref name="mean"/>, <paramref name="std"/>²)) (<c>Tensor.log_normal_</c>).</summary>
    public Tensor LogNormal_(double mean = 1, double std = 2, Generator? generator = null)
    {
        if (!(std > 0)) throw new KilnException("log_normal_", $"log_normal_ expects std > 0.0, but found std={std}");
        using var grad = GradMode.Set(false);
        using var z = Randn(_shape, DType.Float64, generator);
        using var scaled = z * std + mean;
        using var drawn = scaled.Exp();
        return WriteDrawn(drawn);
    }

    /// <summary>Integers uniform in [<paramref name="low"/>, <paramref name="high"/>) shaped like <paramref name="like"/> (<c>torch.randint_like</c>).</summary>
    public static Tensor RandIntLike(Tensor like, long low, long high, Generator? generator = null) =>
        OnDeviceOf(like, RandInt(low, high, like._shape, like.DType == DType.Bool ? DType.Int64 : like.DType, generator));

    /// <summary>A Poisson draw for each rate in <paramref name="rates"/> (<c>torch.poisson</c>), in the rates' dtype.</summary>
    public static Tensor Poisson(Tensor rates, Generator? generator = null)
    {
        using var grad = GradMode.Set(false);
        return new Distributions.Poisson(rates).Sample(null, generator);
    }

    /// <summary>A Binomial(count, prob) draw for each pair (<c>torch.binomial</c>), in the probabilities' dtype.</summary>
    public static Tensor Binomial(Tensor count, Tensor prob, Generator? generator = null)
    {
        using var grad = GradMode.Set(false);
        return new Distributions.Binomial(count, probs: prob).Sample(null, generator);
    }

    /// <summary>Draws u ~ U[0, 1) in float64, maps each through <paramref name="transform"/> and writes them here.</summary>
    Tensor FillFromUniform(string op, Generator? generator, Func<double, double> transform)
    {
        if (!DType.IsFloatingPoint()) throw new KilnException(op, $"{op}: expected a floating-point tensor, got {DType}", KilnErrorKind.DType);
        using var grad = GradMode.Set(false);
        using var u = Rand(_shape, DType.Float64, generator);
        var values = u.ToArray<double>();
        for (int i = 0; i < values.Length; i++) values[i] = transform(values[i]);
        using var drawn = From(values, (int[])_shape.Clone());
        return WriteDrawn(drawn);
    }

    Tensor WriteDrawn(Tensor drawn)
    {
        using var typed = drawn.To(DType);
        using var placed = typed.To(Device);
        using var grad = GradMode.Set(false);
        Copy_(placed);
        return this;
    }
}
