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

/// <summary>A dequantizing weight as one product sees it: its rows from <paramref name="Row0"/> on are the product's columns of B.</summary>
internal readonly record struct DequantizingB(IDequantizingWeight Weight, int Row0);
