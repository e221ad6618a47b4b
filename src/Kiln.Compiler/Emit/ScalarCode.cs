using System;
using System.Collections.Generic;
using System.Globalization;
using Kiln.Compiler.Autodiff;
using Kiln.Compiler.Ops;

namespace Kiln.Compiler.Emit
{
    /// <summary>
    /// Elementwise ops as C# float expressions for generated kernels. The forward forms are written here; the backward
    /// forms are not: they come from the registry's derivative rules (<see cref="Derivatives"/>) run over an algebra whose
    /// values are expressions, so a compiled kernel differentiates exactly as the eager engine does.
    /// </summary>
    public static class ScalarCode
    {
        /// <summary>The runtime class generated kernels call for the functions the BCL lacks (erf, the normal pdf/cdf).</summary>
        public const string Math = "global::Kiln.Compilation.ScalarMath";

        /// <summary>Elementwise activations a generated kernel can fuse.</summary>
        public static IReadOnlyCollection<string> Activations { get; } = new[] { "relu", "gelu", "gelu_tanh", "tanh", "sigmoid", "silu" };

        /// <summary>Other one-input elementwise ops a generated kernel can fuse.</summary>
        public static IReadOnlyCollection<string> Unary { get; } = new[] { "exp", "log", "sqrt", "rsqrt", "abs", "neg" };

        /// <summary>Two-input elementwise ops (operands of one shape, or a tensor and a number) a generated kernel can fuse.</summary>
        public static IReadOnlyCollection<string> Binary { get; } = new[] { "add", "sub", "mul", "div" };

        const string V = "global::System.Runtime.Intrinsics.Vector256";
        const string VMath = "global::Kiln.Compilation.VectorMath";

        /// <summary>The expression of one-input op <paramref name="op"/> applied to <paramref name="x"/>, as a float or an eight-lane vector.</summary>
        public static string Forward(string op, string x, bool vector = false)
        {
            if (vector)
                switch (op)
                {
                    case "relu": return $"{V}.Max({x}, {V}<float>.Zero)";
                    case "tanh": return $"{VMath}.Tanh({x})";
                    case "sigmoid": return $"{VMath}.Sigmoid({x})";
                    case "silu": return $"({x} * {VMath}.Sigmoid({x}))";
                    case "gelu": return $"({x} * {VMath}.NormalCdf({x}))";
                    case "gelu_tanh": return $"({x} * 0.5f * ({V}<float>.One + {VMath}.Tanh(({x} + {x} * {x} * {x} * 0.044715f) * 0.7978845608f)))";
                    case "exp": return $"{VMath}.Exp({x})";
                    case "sqrt": return $"{V}.Sqrt({x})";
                    case "rsqrt": return $"({V}<float>.One / {V}.Sqrt({x}))";
                    case "abs": return $"{V}.Abs({x})";
                    case "neg": return $"(-{x})";
                    default: throw new NotSupportedException($"{op} has no fused vector form");
                }
            switch (op)
            {
                case "relu": return $"global::System.MathF.Max({x}, 0f)";
                case "tanh": return $"global::System.MathF.Tanh({x})";
                case "sigmoid": return $"(1f / (1f + global::System.MathF.Exp(-({x}))))";
                case "silu": return $"({x} / (1f + global::System.MathF.Exp(-({x}))))";
                case "gelu": return $"({x} * {Math}.NormalCdf({x}))";
                case "gelu_tanh": return $"(0.5f * {x} * (1f + global::System.MathF.Tanh(0.7978845608f * ({x} + 0.044715f * {x} * {x} * {x}))))";
                case "exp": return $"global::System.MathF.Exp({x})";
                case "log": return $"global::System.MathF.Log({x})";
                case "sqrt": return $"global::System.MathF.Sqrt({x})";
                case "rsqrt": return $"(1f / global::System.MathF.Sqrt({x}))";
                case "abs": return $"global::System.MathF.Abs({x})";
                case "neg": return $"(-{x})";
                default: throw new NotSupportedException($"{op} has no fused elementwise form");
            }
        }

        /// <summary>The expression of two-input op <paramref name="op"/> (<see cref="Binary"/>) on <paramref name="a"/> and <paramref name="b"/>.</summary>
        public static string BinaryForward(string op, string a, string b) => op switch
        {
            "add" => $"({a} + {b})",
            "sub" => $"({a} - {b})",
            "mul" => $"({a} * {b})",
            "div" => $"({a} / {b})",
            _ => throw new NotSupportedException($"{op} has no fused elementwise form"),
        };

        /// <summary>A number as an operand: a float literal, or eight lanes of it.</summary>
        public static string Constant(double value, bool vector) => vector ? $"{V}.Create({F(value)})" : F(value);

        /// <summary>
        /// The gradients of an elementwise op's inputs (<paramref name="inputs"/>: kernel variables or constants) given its output
        /// and the output's gradient; null for inputs that need none (throws <see cref="NotSupportedException"/> where a rule
        /// needs a function without a vector form). Inside a fused group every operand has the group's shape,
        /// so the rules' reductions to an input's shape are the identity.
        /// </summary>
        public static string?[] Gradients(string op, IReadOnlyList<string> inputs, string y, string grad, IReadOnlyList<bool> needs, bool vector)
        {
            var args = new OpArgs();
            string rule = op;
            if (op == "gelu_tanh") { rule = "gelu"; args.Mode = "tanh"; }
            return Derivatives.Backward(rule, new ExpressionAlgebra(vector), new ExpressionContext(inputs, y, args, needs), grad);
        }

        static string F(double v) => ((float)v).ToString("R", CultureInfo.InvariantCulture) + "f";

        /// <summary>
        /// The registry's derivative algebra over C# expressions (elementwise operations only): float scalars, or
        /// eight-lane vectors (<c>Vector256&lt;float&gt;</c>) where every function used has a vector form.
        /// </summary>
        sealed class ExpressionAlgebra : IGradAlgebra<string>
        {
            readonly bool _vector;
            public ExpressionAlgebra(bool vector) { _vector = vector; }

            string C(double v) => _vector ? $"{V}.Create({F(v)})" : F(v);
            string Fn(string scalar, string? vector, string a) =>
                _vector ? (vector ?? throw new NotSupportedException(scalar + " has no vector form")) + $"({a})" : $"{scalar}({a})";
            string Select(string condition, string a, string b) =>
                _vector ? $"{V}.ConditionalSelect({condition}, {a}, {b})" : $"({condition} ? {a} : {b})";
            string Greater(string a, string b) => _vector ? $"{V}.GreaterThan({a}, {b})" : $"{a} > {b}";
            string One => _vector ? $"{V}<float>.One" : "1f";
            string Zero => _vector ? $"{V}<float>.Zero" : "0f";

            public string Add(string a, string b) => $"({a} + {b})";
            public string Sub(string a, string b) => $"({a} - {b})";
            public string Mul(string a, string b) => $"({a} * {b})";
            public string Div(string a, string b) => $"({a} / {b})";
            public string Neg(string a) => $"(-{a})";
            public string Scale(string a, double s) => $"({a} * {F(s)})";
            public string AddScalar(string a, double s) => $"({a} + {C(s)})";
            public string PowScalar(string a, double exponent) => _vector
                ? (exponent == 2 ? $"({a} * {a})" : throw new NotSupportedException("pow has no vector form"))
                : $"global::System.MathF.Pow({a}, {F(exponent)})";
            public string Exp(string a) => Fn("global::System.MathF.Exp", VMath + ".Exp", a);
            public string Log(string a) => Fn("global::System.MathF.Log", null, a);
            public string Sqrt(string a) => Fn("global::System.MathF.Sqrt", V + ".Sqrt", a);
            public string Sin(string a) => Fn("global::System.MathF.Sin", null, a);
            public string Cos(string a) => Fn("global::System.MathF.Cos", null, a);
            public string Tanh(string a) => Fn("global::System.MathF.Tanh", VMath + ".Tanh", a);
            public string Sigmoid(string a) => _vector ? $"{VMath}.Sigmoid({a})" : $"(1f / (1f + global::System.MathF.Exp(-({a}))))";
            public string Abs(string a) => Fn("global::System.MathF.Abs", V + ".Abs", a);
            // Not MathF.Sign: it throws on NaN (and a GPU kernel cannot throw); NaN·0 keeps PyTorch's NaN.
            public string Sign(string a) => _vector ? throw new NotSupportedException("sign has no vector form") : $"({a} > 0f ? 1f : {a} < 0f ? -1f : {a} * 0f)";
            public string NormalPdf(string a) => Fn(Math + ".NormalPdf", VMath + ".NormalPdf", a);
            public string NormalCdf(string a) => Fn(Math + ".NormalCdf", VMath + ".NormalCdf", a);
            public string GreaterMask(string a, double s) => Select(Greater(a, C(s)), One, Zero);
            public string KeepWhereGreater(string grad, string a, double s) => Select(Greater(a, C(s)), grad, Zero);
            public string GreaterMask(string a, string b) => Select(Greater(a, b), One, Zero);
            public string EqualMask(string a, string b) => Select(_vector ? $"{V}.Equals({a}, {b})" : $"{a} == {b}", One, Zero);
            public string InRangeMask(string a, double? lo, double? hi) => _vector
                ? throw new NotSupportedException("clamp's mask has no vector form")
                : $"(({(lo is null ? "true" : $"{a} >= {F(lo.Value)}")}) && ({(hi is null ? "true" : $"{a} <= {F(hi.Value)}")}) ? 1f : 0f)";
            public string Where(string cond, string a, string b) => _vector ? throw new NotSupportedException("where has no vector form") : $"({cond} != 0f ? {a} : {b})";
            public string MaskedZero(string a, string mask) => _vector ? throw new NotSupportedException("masked fill has no vector form") : $"({mask} != 0f ? 0f : {a})";
            public string ZerosLike(string a) => Zero;
            public string CastLike(string a, string like) => a;

            // Shape-changing operations have no single-element form: a rule that needs one cannot be fused.
            static string No(string what) => throw new NotSupportedException($"{what} is not elementwise");
            public int[] Shape(string a) => Array.Empty<int>();
            public string Sum(string a, int[] dims, bool keepDim) => No("sum");
            // A fused group's operands share one shape (checked when it runs), so reducing to an input's shape changes nothing.
            public string SumTo(string a, int[] shape) => a;
            public string Expand(string a, int[] shape) => No("expand");
            public string Reshape(string a, int[] shape) => No("reshape");
            public string Permute(string a, int[] dims) => No("permute");
            public string Transpose(string a, int d0, int d1) => No("transpose");
            public string Unsqueeze(string a, int dim) => No("unsqueeze");
            public string Matmul(string a, string b) => No("matmul");
            public string CumSum(string a, int dim) => No("cumsum");
            public string Flip(string a, int dim) => No("flip");
            public string Narrow(string a, int dim, int start, int length) => No("narrow");
            public string SliceStep(string a, int dim, int start, int step, int length) => No("slice");
            public string PadSlice(string src, int[] shape, int dim, int start, int step) => No("pad_slice");
            public string Cat(IReadOnlyList<string> parts, int dim) => No("cat");
            public string Select(string a, int dim, int index) => No("select");
            public string Gather(string a, int dim, string index) => No("gather");
            public string ScatterAddInto(int[] shape, string like, int dim, string index, string src) => No("scatter_add");
            public string IndexAddInto(int[] shape, string like, int dim, string index, string src) => No("index_add");
            public string ScatterZero(string a, int dim, string index) => No("scatter");
            public string Softmax(string a, int dim) => No("softmax");
            public string Tril(string a, int diagonal) => No("tril");
            public string Triu(string a, int diagonal) => No("triu");
            public string Im2Col(string a, int[] geometry) => No("im2col");
            public string Col2Im(string a, int[] sizeAndGeometry) => No("col2im");
            public string?[] Conv2dBackward(string x, string weight, bool hasBias, string grad, int[] geometry, int groups, bool needX, bool needW, bool needB) => new[] { No("conv2d") };
            public string MaxPool2dBackward(string grad, string indices, int[] inputShape) => No("max_pool2d");
            public string?[] LayerNormBackward(string x, string? weight, bool hasBias, string mean, string rstd, string grad, int d) => new[] { No("layer_norm") };
            public string?[] GruLayerBackward(string h0, string weightHh, bool hasBias, string saved, string output, string grad, bool reverse) => new[] { No("gru_layer") };
            public string?[] LstmLayerBackward(string h0, string c0, string weightHh, string? weightHr, string gates, string output, string grad, bool reverse) => new[] { No("lstm_layer") };
            public string[] AttentionBackward(string q, string k, string v, string lse, string? mask, string output, string grad, double scale, bool causal) => new[] { No("sdpa") };
        }

        /// <summary>An elementwise op whose inputs and output are kernel variables (or constants).</summary>
        sealed class ExpressionContext : IGradContext<string>
        {
            readonly IReadOnlyList<string> _inputs;
            readonly IReadOnlyList<bool> _needs;
            readonly string _y;
            public ExpressionContext(IReadOnlyList<string> inputs, string y, OpArgs args, IReadOnlyList<bool> needs) { _inputs = inputs; _y = y; Args = args; _needs = needs; }
            public string Input(int i) => _inputs[i];
            public string Output => _y;
            public int[] InputShape(int i) => Array.Empty<int>();
            public int InputCount => _inputs.Count;
            public OpArgs Args { get; }
            public bool NeedsGrad(int i) => _needs[i];
        }
    }
}
