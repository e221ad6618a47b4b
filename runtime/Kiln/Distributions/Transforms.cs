using System;

namespace Kiln.Distributions;

/// <summary>
/// An invertible map of samples with the log of its Jacobian's absolute determinant (<c>torch.distributions.transforms</c>),
/// for <see cref="TransformedDistribution"/>. The transforms here act elementwise.
/// </summary>
public abstract class Transform
{
    /// <summary>y = f(x).</summary>
    public abstract Tensor Forward(Tensor x);

    /// <summary>x = f⁻¹(y).</summary>
    public abstract Tensor Inverse(Tensor y);

    /// <summary>log |df/dx| at x (with y = f(x)), elementwise.</summary>
    public abstract Tensor LogAbsDetJacobian(Tensor x, Tensor y);
}

/// <summary>y = loc + scale·x (<c>AffineTransform</c>).</summary>
public sealed class AffineTransform(Tensor loc, Tensor scale) : Transform
{
    /// <summary>A shift and a scale given as numbers.</summary>
    public AffineTransform(double loc, double scale) : this(Tensor.Scalar(loc).Float(), Tensor.Scalar(scale).Float()) { }

    /// <summary>The shift.</summary>
    public Tensor Loc { get; } = loc;
    /// <summary>The scale.</summary>
    public Tensor Scale { get; } = scale;

    // Numbers given as host scalars follow the samples to their device (PyTorch mixes 0-D CPU tensors in freely).
    static Tensor On(Tensor t, Tensor like) => t.Device == like.Device ? t : t.To(like.Device);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        using var scaled = x * On(Scale, x);
        return scaled + On(Loc, x);
    }

    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y)
    {
        using var shifted = y - On(Loc, y);
        return shifted / On(Scale, y);
    }

    /// <summary>log |scale|, broadcast to x.</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y)
    {
        using var magnitude = On(Scale, x).Abs();
        using var log = magnitude.Log();
        var shape = Compiler.Shapes.ShapeRules.Broadcast("AffineTransform", x.ShapeArray, log.ShapeArray);
        using var expanded = log.Expand(shape);
        return expanded.Contiguous();
    }
}

/// <summary>y = exp(x) (<c>ExpTransform</c>).</summary>
public sealed class ExpTransform : Transform
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Exp();
    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y) => y.Log();
    /// <summary>x.</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y) => x.To(x.DType);
}

/// <summary>y = σ(x) (<c>SigmoidTransform</c>); the inverse clamps y into the open interval first, as PyTorch's.</summary>
public sealed class SigmoidTransform : Transform
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        double eps = DTypes.Eps(x.DType);
        using var s = x.Sigmoid();
        return s.Clamp(eps, 1 - eps);
    }

    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y)
    {
        double eps = DTypes.Eps(y.DType);
        using var clamped = y.Clamp(eps, 1 - eps);
        return clamped.Logit();
    }

    /// <summary>-softplus(-x) - softplus(x).</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y)
    {
        using var negated = x.Neg();
        using var a = negated.Softplus();
        using var b = x.Softplus();
        using var sum = a + b;
        return sum.Neg();
    }
}

/// <summary>y = tanh(x) (<c>TanhTransform</c>, the squashing of SAC's policies).</summary>
public sealed class TanhTransform : Transform
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Tanh();
    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y) => y.Atanh();

    /// <summary>2·(log 2 - x - softplus(-2x)), the stable form of log(1 - tanh²x).</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y)
    {
        using var twice = x * -2.0;
        using var soft = twice.Softplus();
        using var inner = (Math.Log(2) - x) - soft;
        return inner * 2.0;
    }
}
