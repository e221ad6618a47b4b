using System.Numerics;

namespace Kiln.Kernels.Gemm;

/// <summary>Straightforward GEMM for double and integer tensors (correct, not tuned): C = alpha·A·B + beta·C.</summary>
internal static unsafe class GenericGemm
{
    public static void Multiply<T>(int m, int n, int k, T alpha, T* a, long rsa, long csa, T* b, long rsb, long csb, T beta, T* c, long ldc)
        where T : unmanaged, INumber<T>
    {
        Threads.For(m, 16, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (s, e) =>
        {
            for (long i = s; i < e; i++)
            {
                T* crow = c + i * ldc;
                for (int j = 0; j < n; j++) crow[j] = beta == T.Zero ? T.Zero : beta * crow[j];
                for (int p = 0; p < k; p++)
                {
                    T av = alpha * a[i * rsa + p * csa];
                    T* brow = b + p * rsb;
                    for (int j = 0; j < n; j++) crow[j] += av * brow[j * csb];
                }
            }
        });
    }
}
