using System;
using System.Collections.Generic;
using Kiln.Compiler.Autodiff;
using Kiln.Compiler.Ops;
using Kiln.Compiler.Ops.Pointwise;

namespace Kiln.Compiler.Emit
{
    /// <summary>
    /// Elementwise ops as C# expressions for the fused loops of compiled models. Nothing is written here per op: the
    /// forward forms are the op table's formulas (<see cref="UnaryOps"/>) and the backward forms the registry's derivative
    /// rules (<see cref="Derivatives"/>), both printed by <see cref="CSharpScalarAlgebra"/>, so a compiled kernel computes
    /// and differentiates exactly as the eager engine does. Scalar forms compute in double and round once to float.
    /// </summary>
    public static class ScalarCode
    {
        /// <summary>The runtime contract class generated kernels call for special functions (hidden from IntelliSense).</summary>
        public const string Math = "global::Kiln.Compilation.CompiledOps.Functions";

        /// <summary>The contract class a generated GPU kernel's double functions come from.</summary>
        public const string GpuMath = "global::Kiln.Compilation.CompiledOps.GpuFunctions";

        /// <summary>Whether one-input op <paramref name="op"/> (PyTorch's name) can be fused into a generated loop.</summary>
        public static bool IsFusableUnary(string op) => UnaryOps.Find(op) is not null;

        static CSharpScalarAlgebra Printer(bool vector, bool gpu) => new CSharpScalarAlgebra(vector ? Lanes.Vector256 : Lanes.Double, Math, gpu, GpuMath);

        // A scalar form that calls a function or holds a double literal computes in double: round it once to float. Pure
        // arithmetic on the kernel's float variables is float already and stays as printed.
        static readonly System.Text.RegularExpressions.Regex Widens = new System.Text.RegularExpressions.Regex(@"global::|[0-9]d\b|\bdouble\.");

        static string Round(string expr, bool vector) => vector || !Widens.IsMatch(expr) ? expr : $"((float){expr})";

        /// <summary>The expression of one-input op <paramref name="op"/> applied to <paramref name="x"/>, as a float or an eight-lane vector.</summary>
        public static string Forward(string op, string x, bool vector = false, bool gpu = false)
        {
            var unary = UnaryOps.Find(op) ?? throw new NotSupportedException($"{op} has no fused elementwise form");
            return Round(unary.Forward(Printer(vector, gpu), x), vector);
        }

        /// <summary>The expression of two-input op <paramref name="op"/> (<see cref="BinaryOps"/>) on <paramref name="a"/> and <paramref name="b"/>.</summary>
        public static string BinaryForward(string op, string a, string b, bool vector = false, bool gpu = false)
        {
            var binary = BinaryOps.Find(op) ?? throw new NotSupportedException($"{op} has no fused elementwise form");
            return Round(binary.Forward(Printer(vector, gpu), a, b), vector);
        }

        /// <summary>A number as an operand: a float literal, or eight lanes of it.</summary>
        public static string Constant(double value, bool vector) =>
            vector ? new CSharpScalarAlgebra(Lanes.Vector256, Math).Constant(value) : CSharpScalarAlgebra.FloatLiteral(value);

        /// <summary>
        /// The gradients of an elementwise op's inputs (<paramref name="inputs"/>: kernel variables or constants) given its output
        /// and the output's gradient; null for inputs that need none (throws <see cref="NotSupportedException"/> where a rule
        /// needs a function without a vector form). Inside a fused group every operand has the group's shape,
        /// so the rules' reductions to an input's shape are the identity.
        /// </summary>
        public static string?[] Gradients(string op, IReadOnlyList<string> inputs, string y, string grad, IReadOnlyList<bool> needs, bool vector, bool gpu = false)
        {
            OpArgs args = OpArgs.None;
            string rule = op;
            if (op == "gelu_tanh") { rule = "gelu"; args = new GeluArgs("tanh"); }
            var result = Derivatives.Backward(rule, new ExpressionAlgebra(vector, gpu), new ExpressionContext(inputs, y, args, needs), grad);
            for (int i = 0; i < result.Length; i++)
                if (result[i] is { } r) result[i] = Round(r, vector);
            return result;
        }

        /// <summary>
        /// The registry's derivative algebra over C# expressions: the elementwise part is <see cref="CSharpScalarAlgebra"/>;
        /// shape-changing operations have no single-element form, so a rule that needs one cannot be fused.
        /// </summary>
        sealed class ExpressionAlgebra : CSharpScalarAlgebra, IGradAlgebra<string>
        {
            public ExpressionAlgebra(bool vector, bool gpu) : base(vector ? Lanes.Vector256 : Lanes.Double, Math, gpu, GpuMath) { }

            public string Where(string cond, string a, string b) => Vector ? No("where") : $"({cond} != 0f ? {a} : {b})";
            public string MaskedZero(string a, string mask) => Vector ? No("masked fill") : $"({mask} != 0f ? 0d : {a})";
            public string CastLike(string a, string like) => a;

            // Shape-changing operations have no single-element form: a rule that needs one cannot be fused.
            static new string No(string what) => throw new NotSupportedException($"{what} is not elementwise");
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
            public bool IsTransposedInMemory(string a) => false;
            public string CumSum(string a, int dim) => No("cumsum");
            public string Flip(string a, int dim) => No("flip");
            public string Narrow(string a, int dim, int start, int length) => No("narrow");
            public string SliceStep(string a, int dim, int start, int step, int length) => No("slice");
            public string PadSlice(string src, int[] shape, int dim, int start, int step) => No("pad_slice");
            public string Cat(IReadOnlyList<string> parts, int dim) => No("cat");
            public string Rope(string x, string cos, string sin) => No("rope");
            public string Select(string a, int dim, int index) => No("select");
            public string Gather(string a, int dim, string index) => No("gather");
            public string ScatterAddInto(int[] shape, string like, int dim, string index, string src) => No("scatter_add");
            public string IndexAddInto(int[] shape, string like, int dim, string index, string src) => No("index_add");
            public string ScatterZero(string a, int dim, string index) => No("scatter");
            public string Softmax(string a, int dim) => No("softmax");
            public string Tril(string a, int diagonal) => No("tril");
            public string Triu(string a, int diagonal) => No("triu");
            public string Im2Col(string a, Shapes.ConvGeometry geometry) => No("im2col");
            public string Col2Im(string a, int height, int width, Shapes.ConvGeometry geometry) => No("col2im");
            public string?[] Conv2dBackward(string x, string weight, bool hasBias, string grad, Shapes.ConvGeometry geometry, int groups, bool needX, bool needW, bool needB) => new[] { No("conv2d") };
            public string MaxPool2dBackward(string grad, string indices, int[] inputShape) => No("max_pool2d");
            public string?[] LayerNormBackward(string x, string? weight, bool hasBias, string mean, string rstd, string grad, int d) => new[] { No("layer_norm") };
            public string? FusedUnaryBackward(string op, string? input, string? output, string grad) => null;
            public string?[]? FusedBinaryBackward(string op, string? a, string? b, string? output, string grad, bool needA, bool needB) => null;
            public string? FusedSoftmaxBackward(string grad, string output, int dim, bool log) => null;
            public string?[] RmsNormBackward(string x, string? weight, string rstd, string grad, int d, double eps) => new[] { No("rms_norm") };
            public string?[] BatchNormBackward(string x, string? weight, bool hasBias, string mean, string rstd, string grad, bool batchStatistics, double eps) => new[] { No("batch_norm") };
            public string?[] GruLayerBackward(string h0, string weightHh, bool hasBias, string saved, string output, string grad, bool reverse, string? lengths) => new[] { No("gru_layer") };
            public string?[] LstmLayerBackward(string h0, string c0, string weightHh, string? weightHr, string gates, string output, string grad, bool reverse, string? lengths) => new[] { No("lstm_layer") };
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
