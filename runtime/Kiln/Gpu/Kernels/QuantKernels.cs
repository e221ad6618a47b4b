using ILGPU;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// Bitsandbytes' weight formats on the device: dequantization, one thread per output element (Kiln.Quantization's layers
/// run their prefill-shaped products through it and the GEMM), and the fused 4-bit and int8 products of a few rows
/// (decode) that read the codes in place. 4-bit codes are two per byte, the first in the high nibble, scaled by their block's
/// absmax; int8 rows are scaled by SCB/127.
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

    /// <summary>
    /// Threads per output feature in <see cref="FusedMatmul4Bit"/> on a GPU, and the most any launch may use (the kernels
    /// read the size from the launch, a power of two of at least 16 — the first 16 threads load the code table; the emulator
    /// launches fewer).
    /// </summary>
    public const int GroupSize = 128;

    /// <summary>The most input rows <see cref="FusedMatmul4Bit"/> takes (decode-shaped products; more rows dequantize once and use the GEMM).</summary>
    public const int MaxRows = 8;

    /// <summary>
    /// y[r, j] = Σ_k x[r, k]·table[code(j, k)]·absmax[(j·in + k) / blocksize] (+ bias[j]) for m ≤ <see cref="MaxRows"/>
    /// rows of x [m, in] and a 4-bit weight [out, in] — the dequantized weight is never written. One group per output
    /// feature j: each thread walks every group-size-th byte of the weight's row (two codes, one block's
    /// absmax: blocks and rows hold an even count), keeping one sum per input row; the sums meet in a tree in shared memory.
    /// </summary>
    [GpuKernel]
    public static void FusedMatmul4Bit(ArrayView<float> y, ArrayView<float> x, ArrayView<byte> packed, ArrayView<float> table, ArrayView<float> absmax,
        ArrayView<float> bias, int m, int inFeatures, int outFeatures, int blocksize, int hasBias)
    {
        var sums = SharedMemory.Allocate<float>(GroupSize * MaxRows);
        var codes = SharedMemory.Allocate<float>(16);
        var acc = LocalMemory.Allocate<float>(MaxRows);
        int t = Group.IdxX;
        long j = Grid.IdxX;
        if (t < 16) codes[t] = table[t];
        for (int r = 0; r < MaxRows; r++) acc[r] = 0;
        Group.Barrier();
        long rowStart = j * inFeatures;
        for (int b = t; b < inFeatures / 2; b += Group.DimX)
        {
            long e = rowStart + 2L * b;
            int v = packed[e >> 1];
            float scale = absmax[e / blocksize];
            float w0 = codes[v >> 4] * scale, w1 = codes[v & 15] * scale;
            for (int r = 0; r < m; r++)
            {
                long xi = (long)r * inFeatures + 2 * b;
                acc[r] += x[xi] * w0 + x[xi + 1] * w1;
            }
        }
        float total = GroupRowSums(sums, acc, m);
        if (t < m) y[(long)t * outFeatures + j] = total + (hasBias != 0 ? bias[j] : 0f);
    }

    /// <summary>
    /// y[r, j] = (Σ_k x[r, k]·code[j, k])·SCB[j]/127 (+ bias[j]) for m ≤ <see cref="MaxRows"/> rows of x [m, in] and an
    /// int8 weight [out, in] with its row scales — the LLM.int8 layout read in place. One group per output feature j, as
    /// <see cref="FusedMatmul4Bit"/>.
    /// </summary>
    [GpuKernel]
    public static void FusedMatmulInt8(ArrayView<float> y, ArrayView<float> x, ArrayView<sbyte> codes, ArrayView<float> scb, ArrayView<float> bias,
        int m, int inFeatures, int outFeatures, int hasBias)
    {
        var sums = SharedMemory.Allocate<float>(GroupSize * MaxRows);
        var acc = LocalMemory.Allocate<float>(MaxRows);
        int t = Group.IdxX;
        long j = Grid.IdxX;
        for (int r = 0; r < MaxRows; r++) acc[r] = 0;
        long rowStart = j * inFeatures;
        for (int k = t; k < inFeatures; k += Group.DimX)
        {
            float w = codes[rowStart + k];
            for (int r = 0; r < m; r++) acc[r] += x[(long)r * inFeatures + k] * w;
        }
        float total = GroupRowSums(sums, acc, m);
        if (t < m) y[(long)t * outFeatures + j] = total * scb[j] * (1f / 127f) + (hasBias != 0 ? bias[j] : 0f);
    }

    /// <summary>
    /// The group's per-thread sums of each of <paramref name="m"/> rows added in a tree in shared memory
    /// (<paramref name="sums"/>: <see cref="GroupSize"/> per row); thread r &lt; m gets row r's total.
    /// </summary>
    static float GroupRowSums(ArrayView<float> sums, ArrayView<float> acc, int m)
    {
        int t = Group.IdxX;
        for (int r = 0; r < m; r++) sums[r * GroupSize + t] = acc[r];
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (t < s)
                for (int r = 0; r < m; r++) sums[r * GroupSize + t] += sums[r * GroupSize + t + s];
            Group.Barrier();
        }
        return t < m ? sums[t * GroupSize] : 0f;
    }

    /// <summary>y[i] = code[i]·SCB[i / cols]·(1/127), in that order (the CPU kernel's).</summary>
    [GpuKernel]
    public static void DequantizeInt8Rows(Index1D i, ArrayView<float> y, ArrayView<sbyte> codes, ArrayView<float> scb, int cols)
    {
        int k = i;
        y[k] = codes[k] * scb[k / cols] * (1f / 127f);
    }
}
