using System;
using System.Globalization;
using Kiln.Compiler.Ops.Pointwise;

namespace Kiln.Compiler.Emit
{
    /// <summary>What a <see cref="CSharpScalarAlgebra"/> expression computes on.</summary>
    public enum Lanes
    {
        /// <summary>One value in double (float operands widen; the caller rounds the result once).</summary>
        Double,
        /// <summary>Eight float lanes (<c>Vector256&lt;float&gt;</c>).</summary>
        Vector256,
        /// <summary>Sixteen float lanes (<c>Vector512&lt;float&gt;</c>, where the CPU has AVX-512).</summary>
        Vector512,
    }

    /// <summary>
    /// Pointwise formulas as C# expressions: the one interpretation every kernel body is printed from — the runtime's
    /// scalar and vector kernel structs, its CUDA op switch, and the fused loops of compiled models. A function with no
    /// form for the requested lanes throws <see cref="NotSupportedException"/> (the caller falls back: a scalar loop, an
    /// unfused op).
    /// </summary>
    public class CSharpScalarAlgebra : IScalarAlgebra<string>
    {
        /// <summary>The runtime's double functions for GPU kernels (ILGPU lowers System.Math's exp/log/tanh/pow to slow
        /// CORDIC loops).</summary>
        public const string GpuMathClass = "global::Kiln.Gpu.Kernels.GpuMath";
        readonly string M;
        readonly string V;
        readonly string _math;

        /// <summary>An algebra printing for <paramref name="lanes"/>.</summary>
        /// <param name="lanes">Scalar double, Vector256 or Vector512 lanes.</param>
        /// <param name="math">The class holding the special functions (Sigmoid, Log1p, Erf, OnePlusErf, Exp and Tanh of
        /// vectors, RoundHalfEven, Trunc): the runtime's internal one, or the public contract for generated code.</param>
        /// <param name="gpu">Prints forms an ILGPU kernel compiles (no Math.Log2/Log10/Tan calls).</param>
        /// <param name="gpuMath">The class a GPU body's double functions come from (the runtime's <c>GpuMath</c>, or the
        /// generated-code contract's forwarder to it).</param>
        public CSharpScalarAlgebra(Lanes lanes, string math, bool gpu = false, string gpuMath = GpuMathClass)
        {
            Vector = lanes != Lanes.Double;
            V = lanes == Lanes.Vector512 ? "global::System.Runtime.Intrinsics.Vector512" : "global::System.Runtime.Intrinsics.Vector256";
            bool gpuScalar = gpu && lanes == Lanes.Double;
            M = gpuScalar ? gpuMath : "global::System.Math";
            _math = gpuScalar ? gpuMath : math;
            Gpu = gpu;
        }

        /// <summary>Whether expressions are vector lanes (Vector256 or Vector512).</summary>
        public bool Vector { get; }
        /// <summary>Whether expressions must compile in an ILGPU kernel.</summary>
        public bool Gpu { get; }

        /// <summary>A number as an operand: a double literal, or float lanes of it.</summary>
        public string Constant(double v) => Vector ? $"{V}.Create({FloatLiteral(v)})" : DoubleLiteral(v);

        /// <summary>A float literal (<c>0.5f</c>).</summary>
        public static string FloatLiteral(double v) => Literal(((float)v).ToString("R", CultureInfo.InvariantCulture), "f", "float");

        /// <summary>A double literal (<c>0.5d</c>).</summary>
        public static string DoubleLiteral(double v) => Literal(v.ToString("R", CultureInfo.InvariantCulture), "d", "double");

        static string Literal(string text, string suffix, string type) => text switch
        {
            "NaN" => $"{type}.NaN",
            "Infinity" or "∞" => $"{type}.PositiveInfinity",
            "-Infinity" or "-∞" => $"{type}.NegativeInfinity",
            _ => text + suffix,
        };

        /// <summary>Throws: <paramref name="what"/> has no form for these lanes.</summary>
        protected static string No(string what) => throw new NotSupportedException(what + " has no vector form");

        string Call(string scalar, string? vector, string a) => Vector ? (vector ?? No(scalar)) + $"({a})" : $"{scalar}({a})";
        string Select(string condition, string a, string b) => Vector ? $"{V}.ConditionalSelect({condition}, {a}, {b})" : $"({condition} ? {a} : {b})";
        string Greater(string a, string b) => Vector ? $"{V}.GreaterThan({a}, {b})" : $"{a} > {b}";
        string One => Vector ? $"{V}<float>.One" : "1d";
        string Zero => Vector ? $"{V}<float>.Zero" : "0d";

        /// <inheritdoc/>
        public string Add(string a, string b) => $"({a} + {b})";
        /// <inheritdoc/>
        public string Sub(string a, string b) => $"({a} - {b})";
        /// <inheritdoc/>
        public string Mul(string a, string b) => $"({a} * {b})";
        /// <inheritdoc/>
        public string Div(string a, string b) => $"({a} / {b})";
        /// <inheritdoc/>
        public string Neg(string a) => $"(-{a})";
        /// <inheritdoc/>
        public string Scale(string a, double s) => $"({a} * {(Vector ? FloatLiteral(s) : DoubleLiteral(s))})";
        /// <inheritdoc/>
        public string AddScalar(string a, double s) => $"({a} + {Constant(s)})";
        /// <inheritdoc/>
        public string PowScalar(string a, double exponent) => Vector
            ? (exponent == 2 ? $"({a} * {a})" : No("pow"))
            : $"{M}.Pow({a}, {DoubleLiteral(exponent)})";
        /// <inheritdoc/>
        public string Reciprocal(string a) => $"({One} / {a})";
        /// <inheritdoc/>
        public string Maximum(string a, string b) => Vector ? $"{V}.Max({a}, {b})" : $"{M}.Max({a}, {b})";
        /// <inheritdoc/>
        public string Minimum(string a, string b) => Vector ? $"{V}.Min({a}, {b})" : $"{M}.Min({a}, {b})";
        /// <inheritdoc/>
        public string Pow(string a, string b) => Vector ? No("pow") : $"{M}.Pow({a}, {b})";
        /// <inheritdoc/>
        public string Atan2(string a, string b) => Vector ? No("atan2") : $"{M}.Atan2({a}, {b})";
        /// <inheritdoc/>
        public string MaxScalar(string a, double s) => Vector ? $"{V}.Max({a}, {Constant(s)})" : $"{M}.Max({a}, {Constant(s)})";
        /// <inheritdoc/>
        public string MinScalar(string a, double s) => Vector ? $"{V}.Min({a}, {Constant(s)})" : $"{M}.Min({a}, {Constant(s)})";
        /// <inheritdoc/>
        public string Exp(string a) => Call(M + ".Exp", _math + ".Exp", a);
        /// <inheritdoc/>
        public string Log(string a) => Call(M + ".Log", V + ".Log", a);
        /// <inheritdoc/>
        public string Log1p(string a) => Call(_math + ".Log1p", _math + ".Log1p", a);
        /// <inheritdoc/>
        public string Expm1(string a) => Call(_math + ".Expm1", _math + ".Expm1", a);
        /// <inheritdoc/>
        public string Log2(string a) => Gpu && !Vector ? $"({M}.Log({a}) * 1.4426950408889634d)" : Call(M + ".Log2", null, a);
        /// <inheritdoc/>
        public string Log10(string a) => Gpu && !Vector ? $"({M}.Log({a}) * 0.43429448190325182d)" : Call(M + ".Log10", null, a);
        /// <inheritdoc/>
        public string Sqrt(string a) => Call(M + ".Sqrt", V + ".Sqrt", a);
        /// <inheritdoc/>
        public string Sin(string a) => Call(M + ".Sin", V + ".Sin", a);
        /// <inheritdoc/>
        public string Cos(string a) => Call(M + ".Cos", V + ".Cos", a);
        /// <inheritdoc/>
        public string Tan(string a) => Gpu && !Vector ? $"({M}.Sin({a}) / {M}.Cos({a}))" : Call(M + ".Tan", null, a);
        /// <inheritdoc/>
        public string Asin(string a) => Call(M + ".Asin", null, a);
        /// <inheritdoc/>
        public string Acos(string a) => Call(M + ".Acos", null, a);
        /// <inheritdoc/>
        public string Atan(string a) => Call(M + ".Atan", null, a);
        /// <inheritdoc/>
        public string Tanh(string a) => Call(M + ".Tanh", _math + ".Tanh", a);
        /// <inheritdoc/>
        public string Sigmoid(string a) => Call(_math + ".Sigmoid", _math + ".Sigmoid", a);
        /// <inheritdoc/>
        public string Erf(string a) => Call(_math + ".Erf", _math + ".Erf", a);
        /// <inheritdoc/>
        public string OnePlusErf(string a) => Call(_math + ".OnePlusErf", _math + ".OnePlusErf", a);
        /// <inheritdoc/>
        public string Floor(string a) => Call(M + ".Floor", V + ".Floor", a);
        /// <inheritdoc/>
        public string Ceil(string a) => Call(M + ".Ceiling", V + ".Ceiling", a);
        /// <inheritdoc/>
        public string Round(string a) => Call(_math + ".RoundHalfEven", null, a);
        /// <inheritdoc/>
        public string Trunc(string a) => Call(_math + ".Trunc", null, a);
        /// <inheritdoc/>
        public string Abs(string a) => Call(M + ".Abs", V + ".Abs", a);
        // Not Math.Sign: it throws on NaN (and a GPU kernel cannot throw); NaN·0 keeps PyTorch's NaN.
        /// <inheritdoc/>
        public string Sign(string a) => Vector ? No("sign") : $"({a} > 0 ? 1d : {a} < 0 ? -1d : {a} * 0d)";
        /// <inheritdoc/>
        public string NormalPdf(string a) => Vector
            ? $"({Constant(0.39894228040143267794)} * {_math}.Exp({Constant(-0.5)} * {a} * {a}))"
            : $"(0.3989422804014327d * {M}.Exp(-0.5d * {a} * {a}))";
        /// <inheritdoc/>
        public string NormalCdf(string a) => $"({Constant(0.5)} * {_math}.OnePlusErf({a} * {Constant(0.70710678118654752440)}))";
        /// <inheritdoc/>
        public string GreaterMask(string a, double s) => Select(Greater(a, Constant(s)), One, Zero);
        /// <inheritdoc/>
        public string KeepWhereGreater(string grad, string a, double s) => Select(Greater(a, Constant(s)), grad, Zero);
        /// <inheritdoc/>
        public string GreaterMask(string a, string b) => Select(Greater(a, b), One, Zero);
        /// <inheritdoc/>
        public string EqualMask(string a, string b) => Select(Vector ? $"{V}.Equals({a}, {b})" : $"{a} == {b}", One, Zero);
        /// <inheritdoc/>
        public string InRangeMask(string a, double? lo, double? hi) => Vector
            ? No("clamp's mask")
            : $"(({(lo is null ? "true" : $"{a} >= {DoubleLiteral(lo.Value)}")}) && ({(hi is null ? "true" : $"{a} <= {DoubleLiteral(hi.Value)}")}) ? 1d : 0d)";
        /// <inheritdoc/>
        public string ZerosLike(string a) => Zero;
    }
}
