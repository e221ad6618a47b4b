using Kiln.Kernels.Gemm;

namespace Kiln.Quantization.Kernels;

/// <summary>A 4-bit weight [n, k] (bitsandbytes' layout) as the blocked GEMM reads it: rows dequantized a panel at a time.</summary>
internal sealed unsafe class FourBitWeight(byte* packed, float* code, float* absmax, int blocksize, int k) : IDequantizingWeight
{
    /// <inheritdoc/>
    public void Dequantize(int row0, int rows, int col0, int cols, float* dst)
    {
        for (int r = 0; r < rows; r++)
            FourBitKernels.DequantizeRun(packed, code, absmax, blocksize, (long)(row0 + r) * k + col0, cols, dst + (long)r * cols);
    }
}

/// <summary>An LLM.int8 row-wise weight [n, k] as the blocked GEMM reads it: rows dequantized a panel at a time.</summary>
internal sealed unsafe class Int8Weight(sbyte* codes, float* scb, int k) : IDequantizingWeight
{
    /// <inheritdoc/>
    public void Dequantize(int row0, int rows, int col0, int cols, float* dst)
    {
        for (int r = 0; r < rows; r++)
            Int8Kernels.DequantizeRun(codes + (long)(row0 + r) * k + col0, scb[row0 + r], cols, dst + (long)r * cols);
    }
}
