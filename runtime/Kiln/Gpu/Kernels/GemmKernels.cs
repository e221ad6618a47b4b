using ILGPU;
using ILGPU.Runtime;

namespace Kiln.Gpu.Kernels;

/// <summary>The sizes and element strides of one batched product C = alpha·A·B + beta·C.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct GemmShape
{
#pragma warning disable CS1591
    public int M, N, K;
    public long RowA, ColA, BatchA, RowB, ColB, BatchB, BatchC;
    public float Alpha, Beta;
#pragma warning restore CS1591
}

/// <summary>
/// Kiln's own float32 GEMM: 16×16 output tiles per group, A and B staged through shared memory in 16-wide K slices, FFMA in
/// registers. Any strides (transposed or broadcast operands are never copied); the batch is the grid's Z dimension. The
/// fallback where cuBLASLt is not loaded, and the kernel the tests run on the emulator.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class GemmKernels
{
    /// <summary>
    /// Tile edge on a GPU (the group is Tile×Tile threads), and the most any launch may use (the shared tiles' edge): the
    /// kernel takes its tile edge from the launch's square group, as the emulator launches smaller ones.
    /// </summary>
    public const int Tile = 16;

    /// <summary>C[b] = alpha·A[b]·B[b] + beta·C[b] (C contiguous [batch, M, N]).</summary>
    [GpuKernel]
    public static void Sgemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape s)
    {
        var ta = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(Tile, Tile), new Stride2D.DenseX(Tile));
        var tb = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(Tile, Tile), new Stride2D.DenseX(Tile));
        int tx = Group.IdxX, ty = Group.IdxY, tile = Group.DimX;
        int col = Grid.IdxX * tile + tx, row = Grid.IdxY * tile + ty;
        long batch = Grid.IdxZ;
        long baseA = batch * s.BatchA, baseB = batch * s.BatchB;
        float acc = 0;
        for (int k0 = 0; k0 < s.K; k0 += tile)
        {
            int ka = k0 + tx, kb = k0 + ty;
            ta[ty, tx] = row < s.M && ka < s.K ? a[baseA + row * s.RowA + ka * s.ColA] : 0f;
            tb[ty, tx] = kb < s.K && col < s.N ? b[baseB + kb * s.RowB + col * s.ColB] : 0f;
            Group.Barrier();
            for (int k = 0; k < tile; k++) acc += ta[ty, k] * tb[k, tx];
            Group.Barrier();
        }
        if (row >= s.M || col >= s.N) return;
        long at = batch * s.BatchC + (long)row * s.N + col;
        c[at] = s.Beta == 0 ? s.Alpha * acc : s.Alpha * acc + s.Beta * c[at];
    }
}
