namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// Symbolic sizes: the analyzers' reading of the shape rules. Sizes are certainly different when they are different
    /// expressions (<c>N</c> and <c>inputSize</c> are taken to differ, as the model must work for any of them); a
    /// window over a symbolic height is computed exactly where the stride divides and named by its expression where not.
    /// </summary>
    public readonly struct SymbolicDims : IDimAlgebra<SymbolicDim, SymbolicDim>
    {
        /// <inheritdoc/>
        public SymbolicDim Of(int value) => SymbolicDim.Constant(value);
        /// <inheritdoc/>
        public bool TryValue(SymbolicDim d, out int value)
        {
            value = 0;
            if (!d.TryConstant(out long v) || v < int.MinValue || v > int.MaxValue) return false;
            value = (int)v;
            return true;
        }
        /// <inheritdoc/>
        public bool Differ(SymbolicDim a, SymbolicDim b) => !a.Equals(b);
        /// <inheritdoc/>
        public SymbolicDim Add(SymbolicDim a, SymbolicDim b) => a + b;
        /// <inheritdoc/>
        public SymbolicDim Times(SymbolicDim a, int k) => a * k;
        /// <inheritdoc/>
        public SymbolicDim Window(SymbolicDim input, int k, int d, int p, int s, bool ceil)
        {
            if (TryValue(input, out int known)) return SymbolicDim.Constant(ConvGeometry.OutSize(known, k, d, p, s, ceil));
            // A symbolic input is taken to be large enough for the window; the last-window rule of ceil mode needs
            // a number, so it is applied only where the stride divides the span exactly (then ceil equals floor).
            var span = input + SymbolicDim.Constant(2L * p - (long)d * (k - 1) - 1);
            return SymbolicDim.Divide(span, s, ceil) + SymbolicDim.Constant(1);
        }
        /// <inheritdoc/>
        public SymbolicDim One => SymbolicDim.Constant(1);
        /// <inheritdoc/>
        public bool TryMultiply(SymbolicDim n, SymbolicDim d, out SymbolicDim product) { product = n * d; return true; }
        /// <inheritdoc/>
        public bool Same(SymbolicDim a, SymbolicDim b) => a.Equals(b);
        /// <inheritdoc/>
        public bool TryDivide(SymbolicDim n, SymbolicDim d, out SymbolicDim quotient) => SymbolicDim.TryDivide(n, d, out quotient);
        /// <inheritdoc/>
        public bool TryDim(SymbolicDim n, out SymbolicDim d) { d = n; return true; }
    }
}
