using System;

namespace Kiln.Distributions;

/// <summary>
/// An invertible map of samples with the log of its Jacobian's absolute determinant (<c>torch.distributions.transforms</c>),
/// for <see cref="TransformedDistribution"/>. Most act elementwise; one with <see cref="EventDim"/> 1 maps whole vectors
/// (the last dim), as <see cref="StickBreakingTransform"/> does.
/// </summary>
public abstract class Transform
{
    /// <summary>y = f(x).</summary>
    public abstract Tensor Forward(Tensor x);

    /// <summary>x = f⁻¹(y).</summary>
    public abstract Tensor Inverse(Tensor y);

    /// <summary>log |det df/dx| at x (with y = f(x)): elementwise, or one value per vector when <see cref="EventDim"/> is 1.</summary>
    public abstract Tensor LogAbsDetJacobian(Tensor x, Tensor y);

    /// <summary>How many rightmost dims one application acts on together (0: elementwise; PyTorch's codomain event dim).</summary>
    public virtual int EventDim => 0;

    /// <summary>The shape of f(x) for an x of <paramref name="shape"/> (<c>forward_shape</c>); the same shape for most transforms.</summary>
    public virtual int[] ForwardShape(int[] shape) => shape;

    /// <summary>
    /// Whether <paramref name="other"/> is the same map (PyTorch's <c>Transform.__eq__</c>): the same kind, and for a
    /// parameterized transform equal parameters. KL divergences between transformed distributions need it.
    /// </summary>
    public virtual bool SameAs(Transform other) => ReferenceEquals(this, other) || other.GetType() == GetType();

    /// <summary>Whether two parameter tensors hold equal values (broadcast).</summary>
    private protected static bool SameValues(Tensor a, Tensor b)
    {
        using var noGrad = Autograd.NoGrad();
        using var hostB = b.To(a.Device);
        using var equal = a.Eq(hostB);
        using var all = equal.All();
        return all.Item<bool>();
    }
}

/// <summary>y = xᵉ (<c>PowerTransform</c>) for positive x; Weibull and Kumaraswamy are built on it.</summary>
public sealed class PowerTransform(Tensor exponent) : Transform
{
    /// <summary>The exponent e.</summary>
    public Tensor Exponent { get; } = exponent;

    /// <inheritdoc/>
    public override bool SameAs(Transform other) => other is PowerTransform p && SameValues(Exponent, p.Exponent);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Pow(Exponent);

    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y)
    {
        using var inverse = Exponent.Reciprocal();
        return y.Pow(inverse);
    }

    /// <summary>log |e·y/x|.</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y)
    {
        using var scaled = Exponent * y;
        using var ratio = scaled / x;
        using var magnitude = ratio.Abs();
        return magnitude.Log();
    }
}

/// <summary>
/// Maps a vector of K - 1 reals to a point of the K-simplex by breaking a stick (<c>StickBreakingTransform</c>): the i-th
/// share is σ(xᵢ - log(K - 1 - i)) of what is left, the last share is the rest. The base of <see cref="LogisticNormal"/>.
/// </summary>
public sealed class StickBreakingTransform : Transform
{
    /// <inheritdoc/>
    public override int EventDim => 1;

    /// <summary>One more entry in the last dim.</summary>
    public override int[] ForwardShape(int[] shape)
    {
        if (shape.Length == 0) throw new KilnException("StickBreakingTransform", "StickBreakingTransform: a vector is needed, not a scalar", KilnErrorKind.Shape);
        var result = (int[])shape.Clone();
        result[^1]++;
        return result;
    }

    /// <summary>log(K - 1 - i) for i = 0 … n - 1, the shift that makes x = 0 the simplex's centre.</summary>
    static Tensor Offsets(int n, Tensor like, int k)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = Math.Log(k - 1 - i);
        using var host = Tensor.From(values, [n]);
        using var typed = host.To(like.DType);
        return typed.To(like.Device);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        int n = x.Size(-1);
        using var offsets = Offsets(n, x, n + 1);
        using var shifted = x - offsets;
        using var shares = ClippedSigmoid(shifted);
        using var rest = 1.0 - shares;
        using var left = rest.CumProd(-1);
        using var paddedShares = NN.F.Pad(shares, [0, 1], value: 1);
        using var paddedLeft = NN.F.Pad(left, [1, 0], value: 1);
        return paddedShares * paddedLeft;
    }

    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y)
    {
        int n = y.Size(-1) - 1;
        using var crop = y.Narrow(-1, 0, n);
        using var offsets = Offsets(n, y, n + 1);
        using var used = crop.CumSum(-1);
        using var remaining = 1.0 - used;
        using var left = remaining.ClampMin(y.DType.Tiny());
        using var logCrop = crop.Log();
        using var logLeft = left.Log();
        using var diff = logCrop - logLeft;
        return diff + offsets;
    }

    /// <summary>Σᵢ (-zᵢ + log σ(zᵢ) + log yᵢ) with zᵢ = xᵢ - log(K - 1 - i).</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y)
    {
        int n = x.Size(-1);
        using var offsets = Offsets(n, x, n + 1);
        using var z = x - offsets;
        using var logSigmoid = z.LogSigmoid();
        using var crop = y.Narrow(-1, 0, n);
        using var logCrop = crop.Log();
        using var a = logSigmoid - z;
        using var terms = a + logCrop;
        return terms.Sum(-1);
    }

    static Tensor ClippedSigmoid(Tensor x)
    {
        using var s = x.Sigmoid();
        return s.Clamp(x.DType.Tiny(), 1 - x.DType.Eps());
    }
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

    /// <inheritdoc/>
    public override bool SameAs(Transform other) => other is AffineTransform a && SameValues(Loc, a.Loc) && SameValues(Scale, a.Scale);

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
