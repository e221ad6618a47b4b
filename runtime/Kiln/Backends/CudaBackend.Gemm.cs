using Kiln.Compiler.Shapes;
using Kiln.Gpu;
using Kiln.Kernels;

namespace Kiln.Backends;

// Matrix products on the CUDA device: cuBLASLt or the tensor-core kernel in the operands' own type, else the tiled kernel.
internal sealed partial class CudaBackend
{
    /// <summary>
    /// A CUDA product in the operands' own type with float32 accumulation: cuBLASLt (float32, float16, bfloat16) where it
    /// loads, else Kiln's tensor-core kernel for float16/bfloat16 on a real GPU; null otherwise (the caller runs the float32
    /// tiled kernel on converted operands).
    /// </summary>
    public Tensor? GemmInOwnType(Tensor a, Tensor b, int[] batch, int n, int m, int k, double alpha, double beta, Tensor? bias)
    {
        bool library = CublasLt.IsAvailable, tensorCores = GpuOps.HasTensorCores(a) && (a.DType == DType.Float16 || a.DType == DType.BFloat16);
        if (!library && !tensorCores || a.DType != b.DType) return null;
        int r = batch.Length;
        long count = ShapeRules.Numel(batch);
        long[] cs = new long[r];
        for (int i = r - 1, acc = 1; i >= 0; acc *= batch[i], i--) cs[i] = (long)acc * n * m;
        var plan = LoopPlan.Create(batch, a.StrideArray[..r], b.StrideArray[..r], cs);
        if (plan.Shape.Length > 1 || count > int.MaxValue) return null;
        long sa = count > 1 ? plan.Strides[0][0] : 0, sb = count > 1 ? plan.Strides[1][0] : 0;
        var result = Tensor.Allocate([.. batch, n, m], a.DType, false, a.Device);
        if (bias is not null && beta != 0)
        {
            using var bt = bias.ToInternal(a.DType);
            Kernels.CopyKernel.Copy(result, bt);
        }
        else beta = 0;
        if (library && CublasLt.TryGemm(a, a.StrideArray[r], a.StrideArray[r + 1], sa, b, b.StrideArray[r], b.StrideArray[r + 1], sb, result, (int)count, n, m, k, (float)alpha, (float)beta))
            return result;
        if (tensorCores && count <= 65535
            && GpuOps.TensorCoreGemm(a, a.StrideArray[r], a.StrideArray[r + 1], sa, b, b.StrideArray[r], b.StrideArray[r + 1], sb, result, (int)count, n, m, k, alpha, beta))
            return result;
        result.Dispose();
        return null;
    }

    /// <summary>The CUDA product: batch dims merged into one stride per operand, or made contiguous where they do not merge.</summary>
    public void BatchedGemm(Tensor a, Tensor b, Tensor c, int[] batch, int n, int m, int k, double alpha, double beta)
    {
        int r = batch.Length;
        long count = ShapeRules.Numel(batch);
        if (count > 65535)
            throw new KilnException("matmul", $"matmul: the CUDA kernel takes up to 65535 matrices per product, got {count} (batch {ShapeText.Format(batch)})", KilnErrorKind.Device);
        long[] cs = new long[r];
        for (int i = r - 1, acc = 1; i >= 0; acc *= batch[i], i--) cs[i] = (long)acc * n * m;
        var plan = LoopPlan.Create(batch, a.StrideArray[..r], b.StrideArray[..r], cs);
        if (plan.Shape.Length > 1)
        {
            using var ac = a.Contiguous();
            using var bc = b.Contiguous();
            BatchedGemm(ac, bc, c, batch, n, m, k, alpha, beta);
            return;
        }
        long sa = plan.Shape.Length == 1 && count > 1 ? plan.Strides[0][0] : 0, sb = plan.Shape.Length == 1 && count > 1 ? plan.Strides[1][0] : 0;
        GpuOps.Gemm(a, a.StrideArray[r], a.StrideArray[r + 1], sa, b, b.StrideArray[r], b.StrideArray[r + 1], sb, c, (int)count, n, m, k, alpha, beta);
    }
}
