using System.Collections.Generic;

namespace Kiln.Compiler.Ops.Pointwise
{
    /// <summary>
    /// The table of one-input elementwise ops (PyTorch's <c>native_functions.yaml</c> + <c>derivatives.yaml</c> for them, as
    /// C#). Adding an op is one class here plus its line in the golden script (<c>tests/golden/make_pointwise_golden.py</c>);
    /// the kernels, Tensor/F/nn members, CUDA code, registry entry and tests follow from it.
    /// </summary>
    public static partial class UnaryOps
    {
        /// <summary>Every declared op, in declaration order (the order of generated members and CUDA codes).</summary>
        public static IReadOnlyList<UnaryOp> All { get; } = new UnaryOp[]
        {
            new Neg(), new Abs(), new Sign(), new Relu(),
            new Exp(), new Log(), new Log1p(), new Log2(), new Log10(), new Sqrt(), new Rsqrt(), new Reciprocal(),
            new Sin(), new Cos(), new Tan(), new Asin(), new Acos(), new Atan(), new Tanh(), new Sigmoid(),
            new Silu(), new Gelu(), new GeluTanh(), new Mish(), new Hardsigmoid(), new Hardswish(), new Softsign(), new LogSigmoid(), new Selu(),
            new Erf(), new NormalPdf(), new NormalCdf(),
            new Floor(), new Ceil(), new Round(), new Trunc(),
            new Expm1(), new Exp2(), new Sinh(), new Cosh(), new Asinh(), new Acosh(), new Atanh(), new Erfc(), new Logit(),
        };

        const double Ln2 = 0.69314718055994530942, Ln10 = 2.30258509299404568402;

        // ---- integer-capable (hand-written generic kernels) ---------------------------------------------------------------

        sealed class Neg : UnaryOp
        {
            public Neg() : base("neg", "Neg", "-x.") { }
            public override IntegerInputs Integers => IntegerInputs.Native;
            public override string RuntimeKernel => "NegOp";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Neg(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Neg(grad);
        }

        sealed class Abs : UnaryOp
        {
            public Abs() : base("abs", "Abs", "|x|.") { }
            public override IntegerInputs Integers => IntegerInputs.Native;
            public override string RuntimeKernel => "AbsOp";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Abs(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Sign(x));
        }

        sealed class Sign : UnaryOp
        {
            public Sign() : base("sign", "Sign", "-1, 0 or 1 by the sign of each element, in its dtype (<c>torch.sign</c>).") { }
            public override IntegerInputs Integers => IntegerInputs.Native;
            public override string RuntimeKernel => "SignOp";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Sign(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.ZerosLike(grad);
        }

        sealed class Relu : UnaryOp
        {
            public Relu() : base("relu", "Relu", "max(x, 0).") { }
            public override IntegerInputs Integers => IntegerInputs.Native;
            public override string RuntimeKernel => "ReluOp";
            public override bool Functional => true;
            public override string Module => "ReLU";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.MaxScalar(x, 0);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.KeepWhereGreater(grad, y, 0);
        }

        // ---- exponentials and logarithms ----------------------------------------------------------------------------------

        sealed class Exp : UnaryOp
        {
            public Exp() : base("exp", "Exp", "e^x.") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Exp(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, y);
        }

        sealed class Log : UnaryOp
        {
            public Log() : base("log", "Log", "Natural logarithm.") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Log(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, x);
        }

        sealed class Log1p : UnaryOp
        {
            public Log1p() : base("log1p", "Log1p", "log(1 + x), accurate near 0.") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Log1p(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.AddScalar(x, 1));
        }

        sealed class Log2 : UnaryOp
        {
            public Log2() : base("log2", "Log2", "Base-2 logarithm.") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Log2(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.Scale(x, Ln2));
        }

        sealed class Log10 : UnaryOp
        {
            public Log10() : base("log10", "Log10", "Base-10 logarithm.") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Log10(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.Scale(x, Ln10));
        }

        sealed class Sqrt : UnaryOp
        {
            public Sqrt() : base("sqrt", "Sqrt", "Square root.") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Sqrt(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.Scale(y, 2));
        }

        sealed class Rsqrt : UnaryOp
        {
            public Rsqrt() : base("rsqrt", "Rsqrt", "1 / sqrt(x).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Reciprocal(g.Sqrt(x));
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Scale(g.Div(y, x), -0.5));
        }

        sealed class Reciprocal : UnaryOp
        {
            public Reciprocal() : base("reciprocal", "Reciprocal", "1 / x (<c>torch.reciprocal</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Reciprocal(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Neg(g.Mul(grad, g.Mul(y, y)));
        }

        // ---- trigonometric and hyperbolic ---------------------------------------------------------------------------------

        sealed class Sin : UnaryOp
        {
            public Sin() : base("sin", "Sin", "Sine.") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Sin(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Cos(x));
        }

        sealed class Cos : UnaryOp
        {
            public Cos() : base("cos", "Cos", "Cosine.") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Cos(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Neg(g.Mul(grad, g.Sin(x)));
        }

        sealed class Tan : UnaryOp
        {
            public Tan() : base("tan", "Tan", "Tangent.") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Tan(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.AddScalar(g.Mul(y, y), 1)); // 1 + tan²
        }

        sealed class Asin : UnaryOp
        {
            public Asin() : base("asin", "Asin", "Arcsine (<c>torch.asin</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Asin(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.Sqrt(g.AddScalar(g.Neg(g.Mul(x, x)), 1)));
        }

        sealed class Acos : UnaryOp
        {
            public Acos() : base("acos", "Acos", "Arccosine (<c>torch.acos</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Acos(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Neg(g.Div(grad, g.Sqrt(g.AddScalar(g.Neg(g.Mul(x, x)), 1))));
        }

        sealed class Atan : UnaryOp
        {
            public Atan() : base("atan", "Atan", "Arctangent (<c>torch.atan</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Atan(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.AddScalar(g.Mul(x, x), 1));
        }

        sealed class Tanh : UnaryOp
        {
            public Tanh() : base("tanh", "Tanh", "Hyperbolic tangent.") { }
            public override bool Functional => true;
            public override string Module => "Tanh";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Tanh(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.AddScalar(g.Neg(g.Mul(y, y)), 1));
        }

        sealed class Sigmoid : UnaryOp
        {
            public Sigmoid() : base("sigmoid", "Sigmoid", "Logistic sigmoid, 1 / (1 + e^-x).") { }
            public override bool Functional => true;
            public override string Module => "Sigmoid";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Sigmoid(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Mul(y, g.AddScalar(g.Neg(y), 1)));
        }

        // ---- activations and the normal distribution ----------------------------------------------------------------------

        sealed class Silu : UnaryOp
        {
            public Silu() : base("silu", "Silu", "x·sigmoid(x) (swish, <c>nn.SiLU</c>).") { }
            public override bool Functional => true;
            public override string Module => "SiLU";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Mul(x, g.Sigmoid(x));
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad)
            {
                T s = g.Sigmoid(x);
                return g.Mul(grad, g.Mul(s, g.AddScalar(g.Mul(x, g.AddScalar(g.Neg(s), 1)), 1)));
            }
        }

        /// <summary>Exact GELU, x·Φ(x); <c>Tensor.Gelu(approximate)</c> picks it or <see cref="GeluTanh"/>.</summary>
        sealed class Gelu : UnaryOp
        {
            public Gelu() : base("gelu", "Gelu", "GELU, x·Φ(x).") { }
            public override bool TensorMethod => false;
            // (x/2)·(1 + erf(x/√2)): the half taken before the erf, so the product after it is a single multiply.
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Mul(g.Scale(x, 0.5), g.OnePlusErf(g.Scale(x, 0.70710678118654752440)));
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Add(g.NormalCdf(x), g.Mul(x, g.NormalPdf(x))));
        }

        /// <summary>GELU's tanh approximation (<c>approximate="tanh"</c>): the op <c>gelu</c> with that mode.</summary>
        sealed class GeluTanh : UnaryOp
        {
            const double K = 0.79788456080286535588, B = 0.044715; // sqrt(2/π)
            public GeluTanh() : base("gelu_tanh", "GeluTanh", "GELU's tanh approximation.") { }
            public override bool TensorMethod => false;
            static T Inner<T>(IScalarAlgebra<T> g, T x) => g.Tanh(g.Scale(g.Add(x, g.Scale(g.Mul(g.Mul(x, x), x), B)), K));
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Mul(g.Scale(x, 0.5), g.AddScalar(Inner(g, x), 1));
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad)
            {
                T x2 = g.Mul(x, x), t = Inner(g, x);
                T left = g.Scale(g.AddScalar(t, 1), 0.5);
                T dt = g.AddScalar(g.Neg(g.Mul(t, t)), 1);
                T right = g.Mul(g.Scale(x, 0.5 * K), g.Mul(dt, g.AddScalar(g.Scale(x2, 3 * B), 1)));
                return g.Mul(grad, g.Add(left, right));
            }
        }

        sealed class Mish : UnaryOp
        {
            public Mish() : base("mish", "Mish", "x·tanh(softplus(x)) (<c>nn.Mish</c>).") { }
            public override bool Functional => true;
            public override string Module => "Mish";
            static T Softplus<T>(IScalarAlgebra<T> g, T x) => g.Log1p(g.Exp(x));
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Mul(x, g.Tanh(Softplus(g, x)));
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad)
            {
                // tanh(sp) + x·sigmoid(x)·(1 - tanh²(sp))
                T t = g.Tanh(Softplus(g, x));
                return g.Mul(grad, g.Add(t, g.Mul(g.Mul(x, g.Sigmoid(x)), g.AddScalar(g.Neg(g.Mul(t, t)), 1))));
            }
        }

        sealed class Hardsigmoid : UnaryOp
        {
            public Hardsigmoid() : base("hardsigmoid", "Hardsigmoid", "min(max(x/6 + 1/2, 0), 1) (<c>nn.Hardsigmoid</c>).") { }
            public override bool Functional => true;
            public override string Module => "Hardsigmoid";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.MinScalar(g.MaxScalar(g.AddScalar(g.Scale(x, 1.0 / 6), 0.5), 0), 1);
            // 1/6 strictly inside (-3, 3), as PyTorch.
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) =>
                g.Mul(g.Scale(grad, 1.0 / 6), g.Mul(g.GreaterMask(x, -3), g.GreaterMask(g.Neg(x), -3)));
        }

        sealed class Hardswish : UnaryOp
        {
            public Hardswish() : base("hardswish", "Hardswish", "x·min(max(x + 3, 0), 6)/6 (<c>nn.Hardswish</c>).") { }
            public override bool Functional => true;
            public override string Module => "Hardswish";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Mul(x, g.Scale(g.MinScalar(g.MaxScalar(g.AddScalar(x, 3), 0), 6), 1.0 / 6));
            // 0 below -3, 1 above 3, (2x + 3)/6 between.
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad)
            {
                T inside = g.Mul(g.GreaterMask(x, -3), g.GreaterMask(g.Neg(x), -3));
                return g.Mul(grad, g.Add(g.Mul(inside, g.AddScalar(g.Scale(x, 1.0 / 3), 0.5)), g.GreaterMask(x, 3)));
            }
        }

        sealed class Softsign : UnaryOp
        {
            public Softsign() : base("softsign", "Softsign", "x / (1 + |x|) (<c>nn.Softsign</c>).") { }
            public override bool Functional => true;
            public override string Module => "Softsign";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Div(x, g.AddScalar(g.Abs(x), 1));
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad)
            {
                T d = g.AddScalar(g.Abs(x), 1);
                return g.Div(grad, g.Mul(d, d));
            }
        }

        sealed class LogSigmoid : UnaryOp
        {
            public LogSigmoid() : base("logsigmoid", "LogSigmoid", "log(sigmoid(x)) = -softplus(-x) (<c>nn.LogSigmoid</c>).") { }
            public override bool Functional => true;
            public override string Module => "LogSigmoid";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Neg(g.Log1p(g.Exp(g.Neg(x))));
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Sigmoid(g.Neg(x)));
        }

        sealed class Selu : UnaryOp
        {
            const double Alpha = 1.6732632423543772848170429916717, Lambda = 1.0507009873554804934193349852946;
            public Selu() : base("selu", "Selu", "λ·(max(0, x) + min(0, α·(eˣ - 1))) (<c>nn.SELU</c>).") { }
            public override bool Functional => true;
            public override string Module => "SELU";
            public override T Forward<T>(IScalarAlgebra<T> g, T x) =>
                g.Scale(g.Add(g.MaxScalar(x, 0), g.MinScalar(g.Scale(g.AddScalar(g.Exp(x), -1), Alpha), 0)), Lambda);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad)
            {
                T positive = g.GreaterMask(x, 0);
                return g.Mul(g.Scale(grad, Lambda), g.Add(positive, g.Mul(g.AddScalar(g.Neg(positive), 1), g.Scale(g.Exp(x), Alpha))));
            }
        }

        sealed class Erf : UnaryOp
        {
            public Erf() : base("erf", "Erf", "The error function (<c>torch.erf</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Erf(x);
            // 2/√π e^{-x²}
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Scale(g.Exp(g.Neg(g.Mul(x, x))), 1.1283791670955125739));
        }

        sealed class NormalPdf : UnaryOp
        {
            public NormalPdf() : base("normal_pdf", "NormalPdf", "Standard normal density exp(-x²/2)/√(2π).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.NormalPdf(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Neg(g.Mul(grad, g.Mul(x, y)));
        }

        sealed class NormalCdf : UnaryOp
        {
            public NormalCdf() : base("normal_cdf", "NormalCdf", "Standard normal CDF Φ(x).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.NormalCdf(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.NormalPdf(x));
        }

        // ---- more exponentials, hyperbolic functions, erfc, logit (each built from primitives without cancellation) -----------

        sealed class Expm1 : UnaryOp
        {
            public Expm1() : base("expm1", "Expm1", "e^x - 1, accurate near 0 (<c>torch.expm1</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Expm1(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.AddScalar(y, 1));
        }

        sealed class Exp2 : UnaryOp
        {
            public Exp2() : base("exp2", "Exp2", "2^x (<c>torch.exp2</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Exp(g.Scale(x, Ln2));
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Scale(y, Ln2));
        }

        sealed class Sinh : UnaryOp
        {
            public Sinh() : base("sinh", "Sinh", "Hyperbolic sine (<c>torch.sinh</c>).") { }
            // (expm1(x) - expm1(-x))/2: the two terms have opposite signs, so nothing cancels near 0.
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Scale(g.Sub(g.Expm1(x), g.Expm1(g.Neg(x))), 0.5);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Scale(g.Add(g.Exp(x), g.Exp(g.Neg(x))), 0.5));
        }

        sealed class Cosh : UnaryOp
        {
            public Cosh() : base("cosh", "Cosh", "Hyperbolic cosine (<c>torch.cosh</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Scale(g.Add(g.Exp(x), g.Exp(g.Neg(x))), 0.5);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Scale(g.Sub(g.Expm1(x), g.Expm1(g.Neg(x))), 0.5));
        }

        sealed class Asinh : UnaryOp
        {
            public Asinh() : base("asinh", "Asinh", "Inverse hyperbolic sine (<c>torch.asinh</c>).") { }
            // Odd: sign(x)·log1p(a + a·a/(1 + √(1 + a²))) with a = |x|, and √(1 + a²) = M·√(1 + (m/M)²) (M = max(a, 1),
            // m = min(a, 1)) so a² never overflows.
            public override T Forward<T>(IScalarAlgebra<T> g, T x)
            {
                T a = g.Abs(x), big = g.MaxScalar(a, 1), small = g.MinScalar(a, 1);
                T ratio = g.Div(small, big);
                T root = g.Mul(big, g.Sqrt(g.AddScalar(g.Mul(ratio, ratio), 1)));
                T magnitude = g.Log1p(g.Add(a, g.Mul(a, g.Div(a, g.AddScalar(root, 1)))));
                return g.Mul(g.Sub(g.GreaterMask(x, 0), g.GreaterMask(g.Neg(x), 0)), magnitude);
            }
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.Sqrt(g.AddScalar(g.Mul(x, x), 1)));
        }

        sealed class Acosh : UnaryOp
        {
            public Acosh() : base("acosh", "Acosh", "Inverse hyperbolic cosine, NaN below 1 (<c>torch.acosh</c>).") { }
            // log1p(t + √t·√(t + 2)) with t = x - 1: accurate near 1, and no square to overflow far from it.
            public override T Forward<T>(IScalarAlgebra<T> g, T x)
            {
                T t = g.AddScalar(x, -1);
                return g.Log1p(g.Add(t, g.Mul(g.Sqrt(t), g.Sqrt(g.AddScalar(t, 2)))));
            }
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.Mul(g.Sqrt(g.AddScalar(x, -1)), g.Sqrt(g.AddScalar(x, 1))));
        }

        sealed class Atanh : UnaryOp
        {
            public Atanh() : base("atanh", "Atanh", "Inverse hyperbolic tangent, ±inf at ±1 (<c>torch.atanh</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Scale(g.Sub(g.Log1p(x), g.Log1p(g.Neg(x))), 0.5);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.AddScalar(g.Neg(g.Mul(x, x)), 1));
        }

        sealed class Erfc : UnaryOp
        {
            public Erfc() : base("erfc", "Erfc", "The complementary error function 1 - erf(x), accurate where it is tiny (<c>torch.erfc</c>).") { }
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.OnePlusErf(g.Neg(x)); // erfc(x) = 1 + erf(-x)
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Mul(grad, g.Scale(g.Exp(g.Neg(g.Mul(x, x))), -1.1283791670955125739));
        }

        sealed class Logit : UnaryOp
        {
            public Logit() : base("logit", "Logit", "log(x / (1 - x)), the inverse of the sigmoid (<c>torch.logit</c>).") { }
            // PyTorch's own formula, so values near 1/2 round as its do.
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Log(g.Div(x, g.AddScalar(g.Neg(x), 1)));
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.Div(grad, g.Mul(x, g.AddScalar(g.Neg(x), 1)));
        }

        // ---- rounding: flat almost everywhere (PyTorch's zero gradient); integers are their own answer ----------------------

        sealed class Floor : UnaryOp
        {
            public Floor() : base("floor", "Floor", "Largest integer not above each element (<c>torch.floor</c>); an integer tensor is returned as a copy.") { }
            public override IntegerInputs Integers => IntegerInputs.Identity;
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Floor(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.ZerosLike(grad);
        }

        sealed class Ceil : UnaryOp
        {
            public Ceil() : base("ceil", "Ceil", "Smallest integer not below each element (<c>torch.ceil</c>).") { }
            public override IntegerInputs Integers => IntegerInputs.Identity;
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Ceil(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.ZerosLike(grad);
        }

        sealed class Round : UnaryOp
        {
            public Round() : base("round", "Round", "Nearest integer, ties to even (<c>torch.round</c>).") { }
            public override IntegerInputs Integers => IntegerInputs.Identity;
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Round(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.ZerosLike(grad);
        }

        sealed class Trunc : UnaryOp
        {
            public Trunc() : base("trunc", "Trunc", "The integer part, toward zero (<c>torch.trunc</c>).") { }
            public override IntegerInputs Integers => IntegerInputs.Identity;
            public override T Forward<T>(IScalarAlgebra<T> g, T x) => g.Trunc(x);
            public override T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad) => g.ZerosLike(grad);
        }
    }
}
