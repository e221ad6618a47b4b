using Kiln.Gpu;
using Kiln.Gpu.Kernels;

namespace Kiln.Backends;

/// <summary>
/// The CUDA device's fused reductions, attention, layer norm and recurrent layers: the mean has a row kernel; the rest
/// are recorded compositions of its GEMMs, row reductions and elementwise kernels (no fused kernel for them yet).
/// </summary>
internal sealed partial class CudaBackend
{
    public bool RowStatistic(RowStatistic stat, Tensor x, Tensor y, long rows, long length, double parameter)
    {
        int kernel = stat switch
        {
            Backends.RowStatistic.Mean => RowKernels.Mean,
            Backends.RowStatistic.LogSumExp => RowKernels.LogSumExp,
            _ => -1,
        };
        if (kernel < 0) return false;
        GpuOps.RowReduce(x, y, rows, length, kernel);
        return true;
    }

    public Tensor? AllAny(Tensor x, string op, int[]? dims, bool keepDim, bool all) => null;

    public Tensor? SumFastPath(Tensor x, int[]? dims, bool keepDim, DType resultType) => null;

    public Tensor? Attention(Tensor q, Tensor k, Tensor v, Tensor? additiveMask, bool causal, double scale, bool grouped) => null;

    public Tensor? LayerNorm(Tensor x, int width, Tensor? weight, Tensor? bias, double eps) => null;

    public Tensor? RmsNorm(Tensor x, int width, Tensor? weight, double eps) => null;

    public Tensor? BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training, double momentum, double eps) => null;

    public Tensor LstmLayer(Tensor proj, Tensor h0, Tensor c0, Tensor whh, Tensor? whr, bool reverse, Tensor? lengths) => Tensor.CudaLstm(proj, h0, c0, whh, whr, reverse, lengths);

    public Tensor GruLayer(Tensor proj, Tensor h0, Tensor whh, Tensor? bhh, bool reverse, Tensor? lengths) => Tensor.CudaGru(proj, h0, whh, bhh, reverse, lengths);
}
