using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// float16 / bfloat16 matrix products on tensor cores through inline PTX <c>mma.sync.aligned.m16n8k16</c> (float32
/// accumulation): one warp per 16×8 output tile, fragments loaded straight from global memory with any strides (zero
/// past the edges). Kiln's fallback where cuBLASLt is not loaded; PTX only (the emulator cannot run inline assembly, so
/// the CPU tests check its PTX and the GPU check its numbers).
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class TensorCoreKernels
{
    /// <summary>Threads per group: one warp.</summary>
    public const int Warp = 32;

    /// <summary>C[b] = alpha·A[b]·B[b] + beta·C[b] for 16-bit A, B, C (bit patterns; <paramref name="bf16"/> picks the format).</summary>
    [GpuKernel]
    public static void Mma16(ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<ushort> c, GemmShape s, int bf16)
    {
        int lane = Group.IdxX, group = lane >> 2, pair = (lane & 3) * 2;
        int row0 = Grid.IdxY * 16, col0 = Grid.IdxX * 8;
        long batch = Grid.IdxZ, baseA = batch * s.BatchA, baseB = batch * s.BatchB;
        var d0 = (Ref<float>)0f;
        var d1 = (Ref<float>)0f;
        var d2 = (Ref<float>)0f;
        var d3 = (Ref<float>)0f;
        for (int k0 = 0; k0 < s.K; k0 += 16)
        {
            // A fragment (row-major 16×16): rows group and group+8, columns pair and pair+8 (two values per register).
            var a0 = (Input<uint>)PairA(a, s, baseA, row0 + group, k0 + pair);
            var a1 = (Input<uint>)PairA(a, s, baseA, row0 + group + 8, k0 + pair);
            var a2 = (Input<uint>)PairA(a, s, baseA, row0 + group, k0 + pair + 8);
            var a3 = (Input<uint>)PairA(a, s, baseA, row0 + group + 8, k0 + pair + 8);
            // B fragment (16×8, column-major): rows pair and pair+8 of column group.
            var b0 = (Input<uint>)PairB(b, s, baseB, k0 + pair, col0 + group);
            var b1 = (Input<uint>)PairB(b, s, baseB, k0 + pair + 8, col0 + group);
            if (bf16 != 0)
                CudaAsm.EmitRef("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
                    ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1);
            else
                CudaAsm.EmitRef("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
                    ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1);
        }
        // D fragment: rows group and group+8, columns pair and pair+1.
        Store(c, s, batch, row0 + group, col0 + pair, d0.Value, bf16);
        Store(c, s, batch, row0 + group, col0 + pair + 1, d1.Value, bf16);
        Store(c, s, batch, row0 + group + 8, col0 + pair, d2.Value, bf16);
        Store(c, s, batch, row0 + group + 8, col0 + pair + 1, d3.Value, bf16);
    }

    static uint PairA(ArrayView<ushort> a, GemmShape s, long baseA, int row, int k)
    {
        if (row >= s.M) return 0;
        uint lo = k < s.K ? a[baseA + row * s.RowA + k * s.ColA] : (ushort)0;
        uint hi = k + 1 < s.K ? a[baseA + row * s.RowA + (k + 1) * s.ColA] : (ushort)0;
        return lo | hi << 16;
    }

    static uint PairB(ArrayView<ushort> b, GemmShape s, long baseB, int k, int col)
    {
        if (col >= s.N) return 0;
        uint lo = k < s.K ? b[baseB + k * s.RowB + col * s.ColB] : (ushort)0;
        uint hi = k + 1 < s.K ? b[baseB + (k + 1) * s.RowB + col * s.ColB] : (ushort)0;
        return lo | hi << 16;
    }

    static void Store(ArrayView<ushort> c, GemmShape s, long batch, int row, int col, float value, int bf16)
    {
        if (row >= s.M || col >= s.N) return;
        long at = batch * s.BatchC + (long)row * s.N + col;
        float v = s.Alpha * value;
        if (s.Beta != 0) v += s.Beta * (bf16 != 0 ? ElementCodec.BFloat16ToFloat(c[at]) : ElementCodec.HalfToFloat(c[at]));
        c[at] = bf16 != 0 ? ElementCodec.FloatToBFloat16(v) : ElementCodec.FloatToHalf(v);
    }
}
