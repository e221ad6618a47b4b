using Kiln.Kernels;
using Kiln.Kernels.Gemm;

namespace Kiln.Backends;

// Matrix products on the CPU: the packed SGEMM for float32, the generic GEMM for float64 and integers; many small
// matrices run in parallel over the batch.
internal sealed unsafe partial class CpuBackend
{
    public Tensor? GemmInOwnType(Tensor a, Tensor b, int[] batch, int n, int m, int k, double alpha, double beta, Tensor? bias) => null;

    public void BatchedGemm(Tensor ac, Tensor bc, Tensor result, int[] batch, int n, int m, int k, double alpha, double beta)
    {
        var ct = result.DType;
        long count = Compiler.Shapes.ShapeRules.Numel(batch);
        int r = batch.Length;
        long rsa = ac.StrideArray[r], csa = ac.StrideArray[r + 1], rsb = bc.StrideArray[r], csb = bc.StrideArray[r + 1];
        byte* pa = ac.DataPointer, pb = bc.DataPointer, pc = result.DataPointer;
        int es = ct.SizeOf();
        long cStride = (long)n * m;
        var aStr = ac.StrideArray; var bStr = bc.StrideArray;
        void One(long bi)
        {
            long offA = 0, offB = 0, rem = bi;
            for (int d = r - 1; d >= 0; d--)
            {
                long idx = rem % batch[d];
                rem /= batch[d];
                offA += idx * aStr[d];
                offB += idx * bStr[d];
            }
            byte* ap = pa + offA * es, bp = pb + offB * es, cp = pc + bi * cStride * es;
            switch (ct)
            {
                case DType.Float32:
                    Sgemm.Multiply(n, m, k, (float)alpha, (float*)ap, rsa, csa, (float*)bp, rsb, csb, (float)beta, (float*)cp, m);
                    break;
                case DType.Float64:
                    GenericGemm.Multiply(n, m, k, alpha, (double*)ap, rsa, csa, (double*)bp, rsb, csb, beta, (double*)cp, m);
                    break;
                case DType.Int64:
                    GenericGemm.Multiply(n, m, k, (long)alpha, (long*)ap, rsa, csa, (long*)bp, rsb, csb, (long)beta, (long*)cp, m);
                    break;
                default:
                    GenericGemm.Multiply(n, m, k, (int)alpha, (int*)ap, rsa, csa, (int*)bp, rsb, csb, (int)beta, (int*)cp, m);
                    break;
            }
        }
        long work = (long)n * m * k;
        if (count > 1 && work < (1L << 21)) Threads.For(count, 1, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (s, e) => { for (long i = s; i < e; i++) One(i); });
        else for (long i = 0; i < count; i++) One(i);
    }
}
