using ILGPU;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// Dequantization of bitsandbytes' weight formats on the device, one thread per output element (Kiln.Quantization's
/// layers run their products on the GPU through these and the GEMM): 4-bit codes two per byte, the first in the high
/// nibble, scaled by their block's absmax; int8 rows scaled by SCB/127.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class QuantKernels
{
    /// <summary>y[i] = table[nibble i]·absmax[i / blocksize].</summary>
    [GpuKernel]
    public static void Dequantize4Bit(Index1D i, ArrayView<float> y, ArrayView<byte> packed, ArrayView<float> table, ArrayView<float> absmax, int blocksize)
    {
        int k = i;
        int v = packed[k >> 1];
        int code = (k & 1) == 0 ? v >> 4 : v & 15;
        y[k] = table[code] * absmax[k / blocksize];
    }

    /// <summary>y[i] = code[i]·SCB[i / cols]·(1/127), in that order (the CPU kernel's).</summary>
    [GpuKernel]
    public static void DequantizeInt8Rows(Index1D i, ArrayView<float> y, ArrayView<sbyte> codes, ArrayView<float> scb, int cols)
    {
        int k = i;
        y[k] = codes[k] * scb[k / cols] * (1f / 127f);
    }
}
