namespace Kiln.Compiler.Ops
{
    /// <summary>One op's declaration: its name (PyTorch's), its kind, its arity, its argument record and its shape rule.</summary>
    public sealed class OpDef
    {
        /// <summary>Creates a declaration.</summary>
        public OpDef(string name, OpKind kind, int arity, System.Type argsType, ShapeRule shape)
        {
            Name = name;
            Kind = kind;
            Arity = arity;
            ArgsType = argsType;
            Shape = shape;
        }

        /// <summary>PyTorch's name of the op (<c>add</c>, <c>matmul</c>, <c>index_select</c>).</summary>
        public string Name { get; }
        /// <summary>The op's kind.</summary>
        public OpKind Kind { get; }
        /// <summary>Number of tensor inputs; -1 for a list (cat, stack).</summary>
        public int Arity { get; }
        /// <summary>The <see cref="OpArgs"/> record the op's calls carry (<see cref="NoArgs"/> for none).</summary>
        public System.Type ArgsType { get; }
        /// <summary>The shape rule, shared with the runtime's checks; it refuses arguments of another type than <see cref="ArgsType"/>.</summary>
        public ShapeRule Shape { get; }

        /// <summary>Whether <see cref="Autodiff.Derivatives"/> holds this op's derivative rule.</summary>
        public bool IsDifferentiable => Autodiff.Derivatives.IsDifferentiable(Name);

        /// <inheritdoc/>
        public override string ToString() => $"{Name} ({Kind})";
    }
}
