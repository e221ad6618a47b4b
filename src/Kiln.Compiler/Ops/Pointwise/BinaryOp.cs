namespace Kiln.Compiler.Ops.Pointwise
{
    /// <summary>
    /// One elementwise two-input op (broadcasting), declared once: its name, its formula and the gradient of each input
    /// over <see cref="IScalarAlgebra{T}"/>, before the reduction to the input's shape (the derivative rules add that
    /// reduction; inside a fused loop it is the identity). Its eager kernel is hand-written (integer-capable, with type
    /// promotion); the formula gives the fused forms of compiled models.
    /// </summary>
    public abstract class BinaryOp
    {
        /// <summary>Declares an op named <paramref name="name"/> (PyTorch's name).</summary>
        protected BinaryOp(string name) { Name = name; }

        /// <summary>PyTorch's name of the op.</summary>
        public string Name { get; }

        /// <summary>y = f(a, b).</summary>
        public abstract T Forward<T>(IScalarAlgebra<T> g, T a, T b);

        /// <summary>The gradient of a (unreduced) given a, b, y and the gradient of y.</summary>
        public abstract T GradA<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad);

        /// <summary>The gradient of b (unreduced) given a, b, y and the gradient of y.</summary>
        public abstract T GradB<T>(IScalarAlgebra<T> g, T a, T b, T y, T grad);

        /// <summary>Which of a, b and y the gradient of input <paramref name="input"/> (0: a, 1: b) reads: the others need not be
        /// saved, and may have been overwritten in place.</summary>
        public (bool A, bool B, bool Y) Reads(int input) => (_reads ??= new[] { Mentions(0), Mentions(1) })[input];

        (bool A, bool B, bool Y)[]? _reads;

        // The gradient printed as text once tells which values it reads.
        (bool, bool, bool) Mentions(int input)
        {
            var p = FormulaText.Printer;
            string text = input == 0 ? GradA(p, "a", "b", "y", "grad") : GradB(p, "a", "b", "y", "grad");
            return (FormulaText.Mentions(text, "a"), FormulaText.Mentions(text, "b"), FormulaText.Mentions(text, "y"));
        }

        /// <inheritdoc/>
        public override string ToString() => Name;
    }
}
