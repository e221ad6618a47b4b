namespace Kiln.Compiler.Shapes
{
    /// <summary>Concrete sizes: the runtime's reading of the shape rules (a struct, so the JIT specializes every rule for it).</summary>
    public readonly struct IntDims : IDimAlgebra<int, long>
    {
        /// <inheritdoc/>
        public int Of(int value) => value;
        /// <inheritdoc/>
        public bool TryValue(int d, out int value) { value = d; return true; }
        /// <inheritdoc/>
        public bool Differ(int a, int b) => a != b;
        /// <inheritdoc/>
        public int Add(int a, int b) => a + b;
        /// <inheritdoc/>
        public int Times(int a, int k) => a * k;
        /// <inheritdoc/>
        public int Window(int input, int k, int d, int p, int s, bool ceil) => ConvGeometry.OutSize(input, k, d, p, s, ceil);
        /// <inheritdoc/>
        public long One => 1;
        /// <inheritdoc/>
        public bool TryMultiply(long n, int d, out long product)
        {
            product = 0;
            if (d > 0 && n > long.MaxValue / d) return false;
            product = n * d;
            return true;
        }
        /// <inheritdoc/>
        public bool Same(long a, long b) => a == b;
        /// <inheritdoc/>
        public bool TryDivide(long n, long d, out long quotient)
        {
            quotient = 0;
            if (d == 0 || n % d != 0) return false;
            quotient = n / d;
            return true;
        }
        /// <inheritdoc/>
        public bool TryDim(long n, out int d)
        {
            d = (int)n;
            return n >= int.MinValue && n <= int.MaxValue;
        }
    }
}
