using System.Numerics;
using Kiln.Kernels.Gemm;

namespace Kiln.Kernels.Attention;

/// <summary>C = alpha·A·B + beta·C on raw blocks: Kiln's SGEMM for float, the generic loop for double.</summary>
internal static unsafe class BlockGemm
{
    public static void Multiply<T>(int m, int n, int k, T alpha, T* a, long rsa, long csa, T* b, long rsb, long csb, T beta, T* c, long ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            Sgemm.Multiply(m, n, k, float.CreateTruncating(alpha), (float*)a, rsa, csa, (float*)b, rsb, csb, float.CreateTruncating(beta), (float*)c, ldc);
        else
            GenericGemm.Multiply(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc);
    }
}
