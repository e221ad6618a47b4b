using Kiln.Gpu;

namespace Kiln.Backends;

// Indexing on the CUDA device: the gather/scatter kernels after a bounds check of the index on the device.
internal sealed partial class CudaBackend
{
    public void IndexSelect(string op, Tensor result, Tensor src, Tensor index, int dim)
    {
        GpuOps.CheckBounds(op, index, src.ShapeArray[dim], dim);
        var indexStrides = new long[result.Dim];
        indexStrides[dim] = 1;
        GpuOps.Gather(result, src, index, indexStrides, dim);
    }

    public void Gather(string op, Tensor result, Tensor x, Tensor index, int dim)
    {
        GpuOps.CheckBounds(op, index, x.Dim == 0 ? 1 : x.ShapeArray[dim], dim, allowNegative: false);
        GpuOps.Gather(result, x, index, index.StrideArray, dim);
    }

    public void Scatter(string op, Tensor work, Tensor src, Tensor index, int dim, bool add)
    {
        GpuOps.CheckBounds(op, index, work.Dim == 0 ? 1 : work.ShapeArray[dim], dim, allowNegative: false);
        GpuOps.Scatter(work, src, index, dim, add);
    }
}
