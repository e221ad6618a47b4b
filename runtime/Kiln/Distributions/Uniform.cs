namespace Kiln.Distributions;

/// <summary>The uniform distribution on [low, high) (<c>torch.distributions.Uniform</c>).</summary>
public sealed class Uniform : Distribution
{
    /// <summary>Uniforms on [<paramref name="low"/>, <paramref name="high"/>), broadcast.</summary>
    public Uniform(Tensor low, Tensor high) : this(Broadcast("Uniform", low, high)) { }

    Uniform((Tensor Low, Tensor High) p) : base(p.Low.ShapeArray, [])
    {
        Low = p.Low;
        High = p.High;
        CheckParameters(("high", High, Constraints.GreaterThan(Low)));
    }

    /// <summary>The lower bounds.</summary>
    public Tensor Low { get; }

    /// <summary>The upper bounds (excluded).</summary>
    public Tensor High { get; }

    /// <inheritdoc/>
    public override Tensor Mean => (Low + High) * 0.5;

    /// <inheritdoc/>
    public override Tensor Variance => (High - Low).Square() / 12.0;

    /// <inheritdoc/>
    public override bool HasRSample => true;

    /// <summary>low + (high - low)·u with u ~ U[0, 1).</summary>
    public override Tensor RSample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var u = StandardUniform(ExtendedShape(sampleShape), Low, generator);
        using var width = High - Low;
        using var scaled = u.Mul(width);
        return scaled.Add(Low);
    }

    /// <summary>NaN: every point of [low, high) is a mode (PyTorch's value).</summary>
    public override Tensor Mode => High * double.NaN;

    /// <summary>-log(high - low) inside [low, high), -inf outside.</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var above = Low.Le(value);
        using var below = High.Gt(value);
        using var inside = above.BitwiseAnd(below);
        using var insideF = inside.To(value.DType.IsFloatingPoint() ? value.DType : Low.DType);
        using var logInside = insideF.Log();
        using var width = High - Low;
        using var logWidth = width.Log();
        return logInside - logWidth;
    }

    /// <summary>log(high - low).</summary>
    public override Tensor Entropy()
    {
        using var width = High - Low;
        return width.Log();
    }

    /// <summary>(x - low)/(high - low), clamped to [0, 1].</summary>
    public override Tensor Cdf(Tensor value)
    {
        using var offset = value - Low;
        using var width = High - Low;
        using var ratio = offset / width;
        return ratio.Clamp(0, 1);
    }

    /// <summary>low + p·(high - low).</summary>
    public override Tensor Icdf(Tensor value)
    {
        using var width = High - Low;
        using var scaled = value * width;
        return scaled + Low;
    }

    /// <summary>low ≤ x ≤ high.</summary>
    public override Constraint Support => Constraints.Interval(Low, High);
}
