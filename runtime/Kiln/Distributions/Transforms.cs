using System;
using System.Collections.Generic;

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

    /// <summary>log |scale|, broadcast to x, in the dtype x·scale has (a 0-D scale does not widen x, as PyTorch's numbers do not).</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y)
    {
        using var magnitude = On(Scale, x).Abs();
        using var log = magnitude.Log();
        using var typed = log.To(Tensor.ResultType(x, Scale));
        var shape = Compiler.Shapes.ShapeRules.Broadcast("AffineTransform", x.ShapeArray, typed.ShapeArray);
        using var expanded = typed.Expand(shape);
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

/// <summary>y = |x| (<c>AbsTransform</c>): not invertible; the inverse is the identity, as PyTorch's.</summary>
public sealed class AbsTransform : Transform
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Abs();
    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y) => y.Alias();
    /// <summary>Not defined: |x| is not a bijection.</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y) =>
        throw new KilnException("log_abs_det_jacobian", "log_abs_det_jacobian: AbsTransform is not bijective", KilnErrorKind.Unsupported);
}

/// <summary>y = log(1 + eˣ) (<c>SoftplusTransform</c>), onto the positive reals.</summary>
public sealed class SoftplusTransform : Transform
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Softplus();

    /// <summary>x = y + log(1 - e^(-y)).</summary>
    public override Tensor Inverse(Tensor y)
    {
        using var negative = y.Neg();
        using var m1 = negative.Expm1();
        using var flipped = m1.Neg();
        using var log = flipped.Log();
        return log + y;
    }

    /// <summary>-softplus(-x) = log σ(x).</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y)
    {
        using var negative = x.Neg();
        using var soft = negative.Softplus();
        return soft.Neg();
    }
}

/// <summary>y = softmax(x) over the last dim (<c>SoftmaxTransform</c>), onto the simplex; not bijective (the inverse is log y).</summary>
public sealed class SoftmaxTransform : Transform
{
    /// <inheritdoc/>
    public override int EventDim => 1;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Softmax(-1);
    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y) => y.Log();
    /// <summary>Not defined: softmax is not a bijection.</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y) =>
        throw new KilnException("log_abs_det_jacobian", "log_abs_det_jacobian: SoftmaxTransform is not bijective", KilnErrorKind.Unsupported);
}

/// <summary>
/// Unconstrained matrices to lower Cholesky factors (<c>LowerCholeskyTransform</c>): the strict lower triangle kept,
/// the diagonal exponentiated.
/// </summary>
public sealed class LowerCholeskyTransform : Transform
{
    /// <inheritdoc/>
    public override int EventDim => 2;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Map(x, exp: true);

    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y) => Map(y, exp: false);

    static Tensor Map(Tensor m, bool exp)
    {
        using var strict = m.Tril(-1);
        using var diagonal = m.Diagonal(0, -2, -1);
        using var mapped = exp ? diagonal.Exp() : diagonal.Log();
        using var placed = mapped.DiagEmbed();
        return strict + placed;
    }

    /// <summary>Not defined by PyTorch (its log_abs_det_jacobian raises).</summary>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y) =>
        throw new KilnException("log_abs_det_jacobian", "log_abs_det_jacobian: LowerCholeskyTransform has no log-determinant here, as in PyTorch", KilnErrorKind.Unsupported);
}

/// <summary>
/// Transforms applied in order (<c>ComposeTransform</c>); no parts is the identity. Its log-determinant sums the parts',
/// each summed over the trailing dims its own event leaves out.
/// </summary>
public sealed class ComposeTransform(params Transform[] parts) : Transform
{
    /// <summary>The transforms, first applied first.</summary>
    public IReadOnlyList<Transform> Parts { get; } = parts;

    /// <inheritdoc/>
    public override int EventDim
    {
        get
        {
            int d = 0;
            foreach (var p in Parts) d = Math.Max(d, p.EventDim);
            return d;
        }
    }

    /// <inheritdoc/>
    public override int[] ForwardShape(int[] shape)
    {
        foreach (var p in Parts) shape = p.ForwardShape(shape);
        return shape;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Chain(x, forward: true);

    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y) => Chain(y, forward: false);

    // Each part on the last one's output (the input itself is never disposed; no parts copy it, keeping its graph).
    Tensor Chain(Tensor start, bool forward)
    {
        if (Parts.Count == 0) return start.Clone();
        Tensor? value = null;
        for (int k = 0; k < Parts.Count; k++)
        {
            var part = Parts[forward ? k : Parts.Count - 1 - k];
            var next = forward ? part.Forward(value ?? start) : part.Inverse(value ?? start);
            value?.Dispose();
            value = next;
        }
        return value!;
    }

    /// <inheritdoc/>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y)
    {
        if (Parts.Count == 0) return Tensor.ZerosLike(x);
        int eventDim = EventDim;
        Tensor? total = null, input = null;
        for (int i = 0; i < Parts.Count; i++)
        {
            var from = input ?? x;
            var output = i == Parts.Count - 1 ? null : Parts[i].Forward(from);
            using var part = Parts[i].LogAbsDetJacobian(from, output ?? y);
            var summed = Independent.SumRightmost(part, eventDim - Parts[i].EventDim);
            if (total is null) total = summed;
            else
            {
                using (summed)
                using (var before = total) total = before + summed;
            }
            input?.Dispose();
            input = output;
        }
        return total!;
    }

    /// <inheritdoc/>
    public override bool SameAs(Transform other)
    {
        if (other is not ComposeTransform c || c.Parts.Count != Parts.Count) return false;
        for (int i = 0; i < Parts.Count; i++) if (!Parts[i].SameAs(c.Parts[i])) return false;
        return true;
    }
}

/// <summary>
/// <paramref name="inner"/> treating <paramref name="reinterpretedDims"/> more trailing dims as one event
/// (<c>IndependentTransform</c>): the same map, its log-determinant summed over those dims.
/// </summary>
public sealed class IndependentTransform(Transform inner, int reinterpretedDims) : Transform
{
    /// <summary>The elementwise (or smaller-event) transform.</summary>
    public Transform Inner { get; } = inner;

    /// <summary>The dims added to the event.</summary>
    public int ReinterpretedDims { get; } = reinterpretedDims;

    /// <inheritdoc/>
    public override int EventDim => Inner.EventDim + ReinterpretedDims;
    /// <inheritdoc/>
    public override int[] ForwardShape(int[] shape) => Inner.ForwardShape(shape);
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Inner.Forward(x);
    /// <inheritdoc/>
    public override Tensor Inverse(Tensor y) => Inner.Inverse(y);

    /// <inheritdoc/>
    public override Tensor LogAbsDetJacobian(Tensor x, Tensor y)
    {
        using var each = Inner.LogAbsDetJacobian(x, y);
        return Independent.SumRightmost(each, ReinterpretedDims);
    }

    /// <inheritdoc/>
    public override bool SameAs(Transform other) => other is IndependentTransform t && t.ReinterpretedDims == ReinterpretedDims && Inner.SameAs(t.Inner);
}
