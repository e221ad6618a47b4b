using System;
using Kiln.Compiler.Shapes;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>GELU; <paramref name="approximate"/> is "none" (erf) or "tanh".</summary>
    public static Tensor Gelu(Tensor x, string approximate = "none") => x.Gelu(approximate);

    /// <summary>x where x &gt; 0, else <paramref name="negativeSlope"/>·x.</summary>
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01)
    {
        using var positive = x.Gt(0);
        using var scaled = x * negativeSlope;
        return Tensor.Where(positive, x, scaled);
    }

    /// <summary>
    /// Randomized leaky ReLU (<c>F.rrelu</c>): in training each element x ≤ 0 is scaled by its own slope drawn uniformly
    /// from [<paramref name="lower"/>, <paramref name="upper"/>] (the gradient there is that slope); otherwise the leaky
    /// ReLU with the mean slope (lower + upper)/2.
    /// </summary>
    public static Tensor Rrelu(Tensor x, double lower = 1.0 / 8, double upper = 1.0 / 3, bool training = false, Generator? generator = null)
    {
        if (!(lower <= upper)) throw new KilnException("rrelu", $"rrelu: lower bound should be less than or equal to the upper bound, got lower={lower}, upper={upper}");
        if (!training) return LeakyRelu(x, (lower + upper) / 2);
        // The slopes are drawn on the host (the same Philox stream on every device) for every element and used where x ≤ 0;
        // x·slope then carries the slope as its gradient, as PyTorch's saved noise does.
        using var drawn = Tensor.Uniform(x.ShapeArray, lower, upper, x.DType, generator);
        using var slopes = drawn.To(x.Device);
        using var negative = x.Le(0);
        using var one = Tensor.OnesLike(slopes);
        using var noise = Tensor.Where(negative, slopes, one);
        return x * noise;
    }

    /// <summary>log(1 + e^(βx))/β, linear above the threshold.</summary>
    public static Tensor Softplus(Tensor x, double beta = 1, double threshold = 20) => x.Softplus(beta, threshold);

    /// <summary>x where x &gt; 0, else α·(eˣ - 1) (<c>F.elu</c>).</summary>
    public static Tensor Elu(Tensor x, double alpha = 1) => ExponentialUnit(x, alpha, 1);

    /// <summary>x where x &gt; 0, else α·(e^(x/α) - 1) (<c>F.celu</c>); α must not be 0.</summary>
    public static Tensor Celu(Tensor x, double alpha = 1)
    {
        if (alpha == 0) throw new KilnException("celu", "celu: alpha cannot be 0 for CELU");
        return ExponentialUnit(x, alpha, 1 / alpha);
    }

    // x, or α·expm1(x·s) below 0. The exponential reads min(x, 0): where x > 0 it would overflow, and its zero gradient
    // there would meet that infinity (0·inf = NaN).
    static Tensor ExponentialUnit(Tensor x, double alpha, double inputScale)
    {
        using var positive = x.Gt(0);
        using var negativePart = x.Clamp(max: 0);
        using var scaledInput = inputScale == 1 ? null : negativePart * inputScale;
        using var curve = (scaledInput ?? negativePart).Expm1();
        using var scaled = curve * alpha;
        return Tensor.Where(positive, x, scaled);
    }

    /// <summary>
    /// x where x &gt; 0, else weight·x (<c>F.prelu</c>): <paramref name="weight"/> holds one slope, or one per channel
    /// (dim 1 of the input; dim 0 of a vector).
    /// </summary>
    public static Tensor Prelu(Tensor x, Tensor weight)
    {
        int channels = x.Dim >= 2 ? x.Size(1) : x.Dim == 1 ? x.Size(0) : 1;
        if (weight.Numel != 1 && weight.Numel != channels)
            throw new KilnException("prelu", $"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = {weight.Numel} and channel size = {channels} (input {ShapeText.Format(x.ShapeArray)})", KilnErrorKind.Shape);
        var slopeShape = new int[Math.Max(x.Dim - 1, 1)];
        Array.Fill(slopeShape, 1);
        if (weight.Numel != 1) slopeShape[0] = channels; // channels first, ones for the dims after them
        using var slope = weight.Reshape(slopeShape);
        using var positive = x.Gt(0);
        using var scaled = x * slope;
        return Tensor.Where(positive, x, scaled);
    }

    /// <summary>
    /// Clamps into [<paramref name="minVal"/>, <paramref name="maxVal"/>] (<c>F.hardtanh</c>); the gradient passes strictly
    /// inside the bounds, as PyTorch's (where <see cref="Tensor.Clamp(double?, double?)"/> passes it at them too).
    /// </summary>
    public static Tensor Hardtanh(Tensor x, double minVal = -1, double maxVal = 1)
    {
        if (maxVal < minVal) throw new KilnException("hardtanh", $"hardtanh: max_val ({maxVal}) must be greater or equal to min_val ({minVal})");
        // Filled with the bounds (constants: no gradient) from the bound itself outwards. Numbers, not tensors shaped like
        // x, so a traced export keeps its free batch axis.
        using var atMax = x.Ge(maxVal);
        using var atMin = x.Le(minVal);
        using var capped = x.MaskedFill(atMax, maxVal);
        return capped.MaskedFill(atMin, minVal);
    }

    /// <summary>min(max(x, 0), 6) (<c>F.relu6</c>).</summary>
    public static Tensor Relu6(Tensor x) => Hardtanh(x, 0, 6);

    /// <summary>x where x &gt; <paramref name="threshold"/>, else <paramref name="value"/> (<c>F.threshold</c>).</summary>
    public static Tensor Threshold(Tensor x, double threshold, double value)
    {
        using var replaced = x.Le(threshold);
        return x.MaskedFill(replaced, value);
    }

    /// <summary>x - λ above λ, x + λ below -λ, 0 between (<c>F.softshrink</c>).</summary>
    public static Tensor Softshrink(Tensor x, double lambd = 0.5)
    {
        if (lambd < 0) throw new KilnException("softshrink", $"softshrink: lambda must be greater or equal to 0, but found to be {lambd}.");
        using var above = x.Gt(lambd);
        using var down = x - lambd;
        using var up = x + lambd;
        using var shifted = Tensor.Where(above, down, up);
        using var magnitude = x.Abs();
        using var inside = magnitude.Le(lambd);
        return shifted.MaskedFill(inside, 0);
    }

    /// <summary>x where |x| &gt; λ, else 0 (<c>F.hardshrink</c>).</summary>
    public static Tensor Hardshrink(Tensor x, double lambd = 0.5)
    {
        using var magnitude = x.Abs();
        using var inside = magnitude.Le(lambd);
        return x.MaskedFill(inside, 0);
    }

    /// <summary>x - tanh(x) (<c>F.tanhshrink</c>).</summary>
    public static Tensor Tanhshrink(Tensor x)
    {
        using var t = x.Tanh();
        return x - t;
    }

    /// <summary>
    /// The gated linear unit (<c>F.glu</c>): the input halved along <paramref name="dim"/> into a and b, then a·sigmoid(b).
    /// </summary>
    public static Tensor Glu(Tensor x, int dim = -1)
    {
        int d = ShapeRules.NormalizeDim("glu", dim, x.Dim);
        if (x.Dim == 0) throw new KilnException("glu", "glu: does not support scalars because halving size must be even", KilnErrorKind.Shape);
        int n = x.Size(d);
        if (n % 2 != 0) throw new KilnException("glu", $"glu: Halving dimension must be even, but dimension {d} is size {n} (input {ShapeText.Format(x.ShapeArray)})", KilnErrorKind.Shape);
        using var a = x.Narrow(d, 0, n / 2);
        using var b = x.Narrow(d, n / 2, n / 2);
        using var gate = b.Sigmoid();
        return a * gate;
    }

    /// <summary>
    /// A sample from the Gumbel-softmax (concrete) distribution over <paramref name="dim"/> (<c>F.gumbel_softmax</c>):
    /// softmax((logits + g) / τ) with g standard Gumbel noise; <paramref name="hard"/> returns the one-hot argmax in the
    /// forward and the soft sample's gradient in the backward (straight-through).
    /// </summary>
    public static Tensor GumbelSoftmax(Tensor logits, double tau = 1, bool hard = false, int dim = -1, Generator? generator = null)
    {
        const string op = "gumbel_softmax";
        if (!logits.DType.IsFloatingPoint()) throw new KilnException(op, $"{op}: expected floating point logits, got {logits.DType}", KilnErrorKind.DType);
        if (!(tau > 0)) throw new KilnException(op, $"{op}: tau must be positive, got {tau}");
        Tensor noise;
        using (Autograd.NoGrad())
        {
            // g = -log(E) with E = -log(U) exponential; U is kept off 0 so that no class is ruled out by an infinite draw.
            using var host = Tensor.Rand(logits.ShapeArray, logits.DType, generator);
            using var uniform = host.To(logits.Device);
            using var safe = uniform.Clamp(1e-20, null);
            using var logU = safe.Log();
            using var exponential = logU.Neg();
            using var logE = exponential.Log();
            noise = logE.Neg();
        }
        using (noise)
        {
            using var perturbed = logits + noise;
            using var scaled = perturbed / tau;
            var soft = scaled.Softmax(dim);
            if (!hard) return soft;
            using (soft)
            {
                int d = Compiler.Shapes.ShapeRules.NormalizeDim(op, dim, logits.Dim);
                Tensor oneHot;
                using (Autograd.NoGrad())
                {
                    using var index = soft.ArgMax(d, keepDim: true);
                    using var zeros = Tensor.ZerosLike(soft);
                    oneHot = zeros.Scatter(d, index, 1.0);
                }
                using (oneHot)
                {
                    using var frozen = soft.Detach();
                    using var jump = oneHot - frozen;
                    return jump + soft;   // the one-hot's values, the soft sample's gradient
                }
            }
        }
    }

    /// <summary>Softmax of -x along <paramref name="dim"/> (<c>F.softmin</c>).</summary>
    public static Tensor Softmin(Tensor x, int dim)
    {
        using var negated = x.Neg();
        return negated.Softmax(dim);
    }

    /// <summary>Softmax along <paramref name="dim"/>.</summary>
    public static Tensor Softmax(Tensor x, int dim) => x.Softmax(dim);

    /// <summary>Log-softmax along <paramref name="dim"/>.</summary>
    public static Tensor LogSoftmax(Tensor x, int dim) => x.LogSoftmax(dim);
}
