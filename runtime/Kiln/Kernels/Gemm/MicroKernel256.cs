using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Gemm;

// The register-blocked inner kernels of the GEMM. Each computes one MR x NR tile of C from packed
// panels of A (MR floats per k) and B (NR floats per k). The bodies are fully unrolled so every
// accumulator lives in a register; the surrounding blocking, packing and edges are in SgemmDriver.

/// <summary>AVX2/FMA micro-kernel: 6 rows x 16 columns.</summary>
internal static unsafe class MicroKernel256
{
    public const int MR = 6, NR = 16;

    /// <summary>6x16 tile over Vector256: 12 accumulators, A broadcast per row, B loaded as 2 vectors per k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, bool accumulate)
    {
        var c0_0 = Vector256<float>.Zero;
        var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero;
        var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero;
        var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero;
        var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero;
        var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero;
        var c5_1 = Vector256<float>.Zero;
        // Pull the C tile toward L1 while the k loop runs; it is read and written only at the end.
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 0 * ldc + 0);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 0 * ldc + 8);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 1 * ldc + 0);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 1 * ldc + 8);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 2 * ldc + 0);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 2 * ldc + 8);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 3 * ldc + 0);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 3 * ldc + 8);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 4 * ldc + 0);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 4 * ldc + 8);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 5 * ldc + 0);
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + 5 * ldc + 8);
        // Unrolled by 4 so loop overhead does not compete with the FMAs for ports.
        int k = 0;
        for (; k <= kc - 4; k += 4)
        {
            var b0_0 = Vector256.Load(b + 0);
            var b1_0 = Vector256.Load(b + 8);
            var a0_0 = Vector256.Create(a[0]);
            c0_0 = Vector256.FusedMultiplyAdd(a0_0, b0_0, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0_0, b1_0, c0_1);
            var a1_0 = Vector256.Create(a[1]);
            c1_0 = Vector256.FusedMultiplyAdd(a1_0, b0_0, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1_0, b1_0, c1_1);
            var a2_0 = Vector256.Create(a[2]);
            c2_0 = Vector256.FusedMultiplyAdd(a2_0, b0_0, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2_0, b1_0, c2_1);
            var a3_0 = Vector256.Create(a[3]);
            c3_0 = Vector256.FusedMultiplyAdd(a3_0, b0_0, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3_0, b1_0, c3_1);
            var a4_0 = Vector256.Create(a[4]);
            c4_0 = Vector256.FusedMultiplyAdd(a4_0, b0_0, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4_0, b1_0, c4_1);
            var a5_0 = Vector256.Create(a[5]);
            c5_0 = Vector256.FusedMultiplyAdd(a5_0, b0_0, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5_0, b1_0, c5_1);
            var b0_1 = Vector256.Load(b + 16);
            var b1_1 = Vector256.Load(b + 24);
            var a0_1 = Vector256.Create(a[6]);
            c0_0 = Vector256.FusedMultiplyAdd(a0_1, b0_1, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0_1, b1_1, c0_1);
            var a1_1 = Vector256.Create(a[7]);
            c1_0 = Vector256.FusedMultiplyAdd(a1_1, b0_1, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1_1, b1_1, c1_1);
            var a2_1 = Vector256.Create(a[8]);
            c2_0 = Vector256.FusedMultiplyAdd(a2_1, b0_1, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2_1, b1_1, c2_1);
            var a3_1 = Vector256.Create(a[9]);
            c3_0 = Vector256.FusedMultiplyAdd(a3_1, b0_1, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3_1, b1_1, c3_1);
            var a4_1 = Vector256.Create(a[10]);
            c4_0 = Vector256.FusedMultiplyAdd(a4_1, b0_1, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4_1, b1_1, c4_1);
            var a5_1 = Vector256.Create(a[11]);
            c5_0 = Vector256.FusedMultiplyAdd(a5_1, b0_1, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5_1, b1_1, c5_1);
            var b0_2 = Vector256.Load(b + 32);
            var b1_2 = Vector256.Load(b + 40);
            var a0_2 = Vector256.Create(a[12]);
            c0_0 = Vector256.FusedMultiplyAdd(a0_2, b0_2, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0_2, b1_2, c0_1);
            var a1_2 = Vector256.Create(a[13]);
            c1_0 = Vector256.FusedMultiplyAdd(a1_2, b0_2, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1_2, b1_2, c1_1);
            var a2_2 = Vector256.Create(a[14]);
            c2_0 = Vector256.FusedMultiplyAdd(a2_2, b0_2, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2_2, b1_2, c2_1);
            var a3_2 = Vector256.Create(a[15]);
            c3_0 = Vector256.FusedMultiplyAdd(a3_2, b0_2, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3_2, b1_2, c3_1);
            var a4_2 = Vector256.Create(a[16]);
            c4_0 = Vector256.FusedMultiplyAdd(a4_2, b0_2, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4_2, b1_2, c4_1);
            var a5_2 = Vector256.Create(a[17]);
            c5_0 = Vector256.FusedMultiplyAdd(a5_2, b0_2, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5_2, b1_2, c5_1);
            var b0_3 = Vector256.Load(b + 48);
            var b1_3 = Vector256.Load(b + 56);
            var a0_3 = Vector256.Create(a[18]);
            c0_0 = Vector256.FusedMultiplyAdd(a0_3, b0_3, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0_3, b1_3, c0_1);
            var a1_3 = Vector256.Create(a[19]);
            c1_0 = Vector256.FusedMultiplyAdd(a1_3, b0_3, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1_3, b1_3, c1_1);
            var a2_3 = Vector256.Create(a[20]);
            c2_0 = Vector256.FusedMultiplyAdd(a2_3, b0_3, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2_3, b1_3, c2_1);
            var a3_3 = Vector256.Create(a[21]);
            c3_0 = Vector256.FusedMultiplyAdd(a3_3, b0_3, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3_3, b1_3, c3_1);
            var a4_3 = Vector256.Create(a[22]);
            c4_0 = Vector256.FusedMultiplyAdd(a4_3, b0_3, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4_3, b1_3, c4_1);
            var a5_3 = Vector256.Create(a[23]);
            c5_0 = Vector256.FusedMultiplyAdd(a5_3, b0_3, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5_3, b1_3, c5_1);
            a += 24;
            b += 64;
        }
        for (; k < kc; k++)
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c0_0 = Vector256.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0, b1, c0_1);
            var a1 = Vector256.Create(a[1]);
            c1_0 = Vector256.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1, b1, c1_1);
            var a2 = Vector256.Create(a[2]);
            c2_0 = Vector256.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2, b1, c2_1);
            var a3 = Vector256.Create(a[3]);
            c3_0 = Vector256.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3, b1, c3_1);
            var a4 = Vector256.Create(a[4]);
            c4_0 = Vector256.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4, b1, c4_1);
            var a5 = Vector256.Create(a[5]);
            c5_0 = Vector256.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5, b1, c5_1);
            a += 6;
            b += 16;
        }
        var va = Vector256.Create(alpha);
        Store(c + 0 * ldc + 0, c0_0 * va, accumulate);
        Store(c + 0 * ldc + 8, c0_1 * va, accumulate);
        Store(c + 1 * ldc + 0, c1_0 * va, accumulate);
        Store(c + 1 * ldc + 8, c1_1 * va, accumulate);
        Store(c + 2 * ldc + 0, c2_0 * va, accumulate);
        Store(c + 2 * ldc + 8, c2_1 * va, accumulate);
        Store(c + 3 * ldc + 0, c3_0 * va, accumulate);
        Store(c + 3 * ldc + 8, c3_1 * va, accumulate);
        Store(c + 4 * ldc + 0, c4_0 * va, accumulate);
        Store(c + 4 * ldc + 8, c4_1 * va, accumulate);
        Store(c + 5 * ldc + 0, c5_0 * va, accumulate);
        Store(c + 5 * ldc + 8, c5_1 * va, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* p, Vector256<float> v, bool accumulate)
    {
        if (accumulate) v += Vector256.Load(p);
        v.Store(p);
    }
}
