namespace Kiln.Compiler.Ops.Pointwise
{
    /// <summary>
    /// The elementwise operations a pointwise formula may use, over an opaque value type. One formula written against it
    /// is interpreted several ways: as doubles (the runtime's test oracle), as C# text for scalar, Vector256 and GPU
    /// kernels (<see cref="Emit.CSharpScalarAlgebra"/>), and as eager tensors (the runtime's autograd algebra). A new
    /// function here is a new primitive for every interpreter; a new op built from these needs none.
    /// </summary>
    public interface IScalarAlgebra<T>
    {
        /// <summary>a + b (broadcast).</summary>
        T Add(T a, T b);
        /// <summary>a - b (broadcast).</summary>
        T Sub(T a, T b);
        /// <summary>a * b (broadcast).</summary>
        T Mul(T a, T b);
        /// <summary>a / b (broadcast).</summary>
        T Div(T a, T b);
        /// <summary>-a.</summary>
        T Neg(T a);
        /// <summary>a * s.</summary>
        T Scale(T a, double s);
        /// <summary>a + s.</summary>
        T AddScalar(T a, double s);
        /// <summary>a ** exponent.</summary>
        T PowScalar(T a, double exponent);
        /// <summary>1 / a.</summary>
        T Reciprocal(T a);
        /// <summary>max(a, b) (broadcast), NaN kept.</summary>
        T Maximum(T a, T b);
        /// <summary>min(a, b) (broadcast), NaN kept.</summary>
        T Minimum(T a, T b);
        /// <summary>a ** b (broadcast).</summary>
        T Pow(T a, T b);
        /// <summary>atan2(a, b), the angle of (b, a) (broadcast).</summary>
        T Atan2(T a, T b);
        /// <summary>max(a, s), NaN kept.</summary>
        T MaxScalar(T a, double s);
        /// <summary>min(a, s), NaN kept.</summary>
        T MinScalar(T a, double s);
        /// <summary>e^a.</summary>
        T Exp(T a);
        /// <summary>Natural log.</summary>
        T Log(T a);
        /// <summary>log(1 + a), accurate near 0.</summary>
        T Log1p(T a);
        /// <summary>e^a - 1, accurate near 0.</summary>
        T Expm1(T a);
        /// <summary>Base-2 log.</summary>
        T Log2(T a);
        /// <summary>Base-10 log.</summary>
        T Log10(T a);
        /// <summary>Square root.</summary>
        T Sqrt(T a);
        /// <summary>Sine.</summary>
        T Sin(T a);
        /// <summary>Cosine.</summary>
        T Cos(T a);
        /// <summary>Tangent.</summary>
        T Tan(T a);
        /// <summary>Arcsine.</summary>
        T Asin(T a);
        /// <summary>Arccosine.</summary>
        T Acos(T a);
        /// <summary>Arctangent.</summary>
        T Atan(T a);
        /// <summary>Hyperbolic tangent.</summary>
        T Tanh(T a);
        /// <summary>Logistic sigmoid.</summary>
        T Sigmoid(T a);
        /// <summary>The error function.</summary>
        T Erf(T a);
        /// <summary>1 + erf(a), accurate where erf is near -1 (GELU and Φ are built on it).</summary>
        T OnePlusErf(T a);
        /// <summary>Largest integer not above a.</summary>
        T Floor(T a);
        /// <summary>Smallest integer not below a.</summary>
        T Ceil(T a);
        /// <summary>Nearest integer, ties to even.</summary>
        T Round(T a);
        /// <summary>Integer part, toward zero.</summary>
        T Trunc(T a);
        /// <summary>|a|.</summary>
        T Abs(T a);
        /// <summary>The sign of each element (-1, 0, 1) in a's dtype.</summary>
        T Sign(T a);
        /// <summary>The standard normal density exp(-x²/2)/sqrt(2π).</summary>
        T NormalPdf(T a);
        /// <summary>Standard normal CDF Φ(x).</summary>
        T NormalCdf(T a);
        /// <summary>1 where a &gt; s, else 0, in a's dtype.</summary>
        T GreaterMask(T a, double s);
        /// <summary><paramref name="grad"/> where <paramref name="a"/> &gt; <paramref name="s"/>, else 0 (relu's backward, one pass).</summary>
        T KeepWhereGreater(T grad, T a, double s);
        /// <summary>1 where a &gt; b, else 0 (broadcast), in a's dtype.</summary>
        T GreaterMask(T a, T b);
        /// <summary>1 where a == b, else 0 (broadcast), in a's dtype.</summary>
        T EqualMask(T a, T b);
        /// <summary>1 where lo ≤ a ≤ hi (null bounds open), else 0.</summary>
        T InRangeMask(T a, double? lo, double? hi);
        /// <summary>Zeros shaped and typed like a.</summary>
        T ZerosLike(T a);
    }
}
