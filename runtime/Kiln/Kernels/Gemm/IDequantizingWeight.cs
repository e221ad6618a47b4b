namespace Kiln.Kernels.Gemm;

/// <summary>
/// A weight W [n, k] of x·Wᵀ stored in a form the GEMM cannot read directly (4-bit or 8-bit codes with their scales): it
/// writes any block of its rows as float32 when the blocked GEMM packs them, so a product with many input rows never
/// holds a float32 copy of the whole weight.
/// </summary>
internal unsafe interface IDequantizingWeight
{
    /// <summary>Writes W[row0 + r, col0 + c] to dst[r·cols + c] for r &lt; <paramref name="rows"/>, c &lt; <paramref name="cols"/>.</summary>
    void Dequantize(int row0, int rows, int col0, int cols, float* dst);
}

/// <summary>
/// A dequantizing weight as one product's B: its transpose (x·Wᵀ, <paramref name="Transposed"/>: B's columns are W's rows
/// from <paramref name="Offset"/> on) or itself (g·W, the input gradient: B's columns are W's columns from
/// <paramref name="Offset"/> on).
/// </summary>
internal readonly record struct DequantizingB(IDequantizingWeight Weight, int Offset, bool Transposed);
