namespace Kiln.Compiler.Ops.Pointwise
{
    /// <summary>How a one-input op treats integer tensors.</summary>
    public enum IntegerInputs
    {
        /// <summary>Computed in floating point (PyTorch's promotion: <c>torch.exp(int)</c> is float).</summary>
        Promote,
        /// <summary>Integers are already the answer: a copy (floor, ceil, round, trunc).</summary>
        Identity,
        /// <summary>Computed in the input's own type by a hand-written generic kernel (<see cref="UnaryOp.RuntimeKernel"/>).</summary>
        Native,
    }

    /// <summary>
    /// One elementwise one-input op, declared once: its names, its documentation, its forward formula and its derivative,
    /// both over <see cref="IScalarAlgebra{T}"/>. Everything else is derived from this declaration: the runtime's kernel
    /// struct (double scalar body, Vector256 body), its <c>Tensor</c> method, <c>F.*</c> function and <c>nn</c> module, its
    /// CUDA op code, the registry entry and shape rule, the eager derivative, the fused forms in compiled models, and the
    /// registry tests (golden values from PyTorch and finite differences).
    /// </summary>
    public abstract class UnaryOp
    {
        /// <summary>Declares an op.</summary>
        /// <param name="name">PyTorch's name (<c>silu</c>), the op's identity everywhere.</param>
        /// <param name="method">The .NET name of the Tensor method and F function (<c>Silu</c>).</param>
        /// <param name="summary">The XML documentation of the generated members (plain text, XML-escaped).</param>
        protected UnaryOp(string name, string method, string summary)
        {
            Name = name;
            Method = method;
            Summary = summary;
        }

        /// <summary>PyTorch's name of the op.</summary>
        public string Name { get; }
        /// <summary>The .NET method name (PascalCase of PyTorch's name).</summary>
        public string Method { get; }
        /// <summary>The documentation of the generated members.</summary>
        public string Summary { get; }

        /// <summary>Whether <c>Tensor.{Method}()</c> is generated (false where a hand-written method takes extra arguments).</summary>
        public virtual bool TensorMethod => true;
        /// <summary>Whether <c>F.{Method}(x)</c> is generated (<c>torch.nn.functional</c> has it).</summary>
        public virtual bool Functional => false;
        /// <summary>The <c>nn</c> module class generated for it (PyTorch's class name, e.g. <c>SiLU</c>), or null.</summary>
        public virtual string? Module => null;
        /// <summary>How integer inputs are treated.</summary>
        public virtual IntegerInputs Integers => IntegerInputs.Promote;
        /// <summary>For <see cref="IntegerInputs.Native"/>: the runtime's hand-written kernel struct (generic over the element type).</summary>
        public virtual string? RuntimeKernel => null;

        /// <summary>The name of the generated floating kernel struct (<c>SiluF</c>).</summary>
        public string KernelStruct => Method + "F";

        bool? _backwardReadsInput, _backwardReadsOutput;

        /// <summary>Whether the derivative reads x (else x need not be saved, and may have been overwritten in place).</summary>
        public bool BackwardReadsInput => _backwardReadsInput ??= BackwardMentions("x");

        /// <summary>Whether the derivative reads y = f(x).</summary>
        public bool BackwardReadsOutput => _backwardReadsOutput ??= BackwardMentions("y");

        // The derivative printed as text once tells which values it reads.
        bool BackwardMentions(string name) => FormulaText.Mentions(Backward(FormulaText.Printer, "x", "y", "grad"), name);

        /// <summary>y = f(x).</summary>
        public abstract T Forward<T>(IScalarAlgebra<T> g, T x);

        /// <summary>The gradient of x given x, y = f(x) and the gradient of y (derivatives.yaml's <c>self: grad * ...</c>).</summary>
        public abstract T Backward<T>(IScalarAlgebra<T> g, T x, T y, T grad);

        /// <inheritdoc/>
        public override string ToString() => Name;
    }
}
