using Kiln.Gpu;
using Kiln.Gpu.Kernels;
using Kiln.Kernels.Elementwise;

namespace Kiln.Backends;

/// <summary>The CUDA device: ILGPU kernels (<see cref="GpuOps"/>), PTX from the build's kernel bundle.</summary>
internal sealed class CudaBackend : IBackend
{
    public static readonly CudaBackend Instance = new();

    public void Unary<TOp>(Tensor y, Tensor x, TOp op) where TOp : struct, IUnaryOp => GpuOps.Unary(y, x, op);
    public void Binary<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryOp => GpuOps.Binary(y, a, b, op);
    public void Compare<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, ICompareOp => GpuOps.Compare(y, a, b, op);
    public void Where(Tensor y, Tensor cond, Tensor a, Tensor b) => GpuOps.Where(y, cond, a, b);
    public void RowSum(Tensor x, Tensor y, long rows, long length) => GpuOps.RowReduce(x, y, rows, length, RowKernels.Sum);
    public void RowProd(Tensor x, Tensor y, long rows, long length) => GpuOps.RowReduce(x, y, rows, length, RowKernels.Prod);
    public void RowExtreme(Tensor x, Tensor values, Tensor indices, long rows, long length, bool max) => GpuOps.Extreme(x, values, indices, rows, length, max);
    public void RowSoftmax(Tensor x, Tensor y, long rows, int length, bool log, float scale) => GpuOps.Softmax(x, y, rows, length, log, scale);
    public void RowCumSum(Tensor x, long rows, long length) => GpuOps.CumSum(x, rows, length);
}
