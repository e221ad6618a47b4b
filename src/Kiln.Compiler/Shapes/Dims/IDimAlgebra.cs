namespace Kiln.Compiler.Shapes
{
    /// <summary>
    /// What a shape rule does with sizes, so each rule is written once and read two ways: on concrete sizes by the runtime
    /// (<see cref="IntDims"/>: <c>int</c> dims, <c>long</c> element counts) and on symbolic sizes by the build-time analyzers
    /// (<see cref="SymbolicDims"/>: <c>N</c>, <c>inputSize</c>, <c>784·N</c>). A rule asks only what both can answer:
    /// whether two sizes are certainly different, whether a size is a given number, sums, products and exact quotients.
    /// </summary>
    /// <typeparam name="TDim">One size.</typeparam>
    /// <typeparam name="TCount">A product of sizes (an element count), which may exceed a size's range.</typeparam>
    public interface IDimAlgebra<TDim, TCount>
    {
        /// <summary>The size <paramref name="value"/>.</summary>
        TDim Of(int value);

        /// <summary>The size's value when it is a known number.</summary>
        bool TryValue(TDim d, out int value);

        /// <summary>Whether two sizes differ: for symbolic sizes, whether they are not the same expression.</summary>
        bool Differ(TDim a, TDim b);

        /// <summary><paramref name="a"/> + <paramref name="b"/>.</summary>
        TDim Add(TDim a, TDim b);

        /// <summary><paramref name="a"/> · <paramref name="k"/>.</summary>
        TDim Times(TDim a, int k);

        /// <summary>
        /// The output length of a sliding window over <paramref name="input"/>: floor((in + 2p − d(k−1) − 1) / s) + 1 (ceil
        /// with <paramref name="ceil"/>, the last window starting inside the input), as <see cref="ConvGeometry.OutSize"/>.
        /// </summary>
        TDim Window(TDim input, int k, int d, int p, int s, bool ceil);

        /// <summary>The element count 1.</summary>
        TCount One { get; }

        /// <summary><paramref name="n"/> · <paramref name="d"/>; false when a concrete product overflows 64 bits.</summary>
        bool TryMultiply(TCount n, TDim d, out TCount product);

        /// <summary>Whether two element counts are the same.</summary>
        bool Same(TCount a, TCount b);

        /// <summary><paramref name="n"/> / <paramref name="d"/> when the division is exact (false for a zero divisor).</summary>
        bool TryDivide(TCount n, TCount d, out TCount quotient);

        /// <summary>An element count as a size; false when it does not fit one.</summary>
        bool TryDim(TCount n, out TDim d);
    }
}
