using Kiln.Kernels;
using Kiln.Kernels.Reduce;

namespace Kiln.Backends;

/// <summary>The CPU's fused reductions, attention, layer norm and recurrent layers.</summary>
internal sealed unsafe partial class CpuBackend
{
    public bool RowStatistic(RowStatistic stat, Tensor x, Tensor y, long rows, long length, double parameter)
    {
        byte* px = (byte*)x.DataPointer, py = (byte*)y.DataPointer;
        bool f32 = x.DType == DType.Float32;
        int es = x.DType.SizeOf();
        var ct = x.DType;
        Tensor.ForRows(rows, length, r =>
        {
            byte* row = px + r * length * es;
            double value = stat switch
            {
                Backends.RowStatistic.Mean => f32 ? RowKernels.Mean((float*)row, length) : RowKernels.Mean((double*)row, length),
                Backends.RowStatistic.Var => f32 ? RowKernels.Var((float*)row, length, parameter) : RowKernels.Var((double*)row, length, parameter),
                Backends.RowStatistic.Std => System.Math.Sqrt(f32 ? RowKernels.Var((float*)row, length, parameter) : RowKernels.Var((double*)row, length, parameter)),
                Backends.RowStatistic.LogSumExp => f32 ? RowKernels.LogSumExp((float*)row, length) : RowKernels.LogSumExp((double*)row, length),
                _ => f32 ? RowKernels.Norm((float*)row, length, parameter) : RowKernels.Norm((double*)row, length, parameter),
            };
            ElementIO.Write(py + r * es, ct, value);
        });
        return true;
    }

    public Tensor? AllAny(Tensor x, string op, int[]? dims, bool keepDim, bool all) => x.HostAllAny(op, dims, keepDim, all);

    public Tensor? SumFastPath(Tensor x, int[]? dims, bool keepDim, DType resultType) => x.HostSumFastPath(dims, keepDim, resultType);

    public Tensor? Attention(Tensor q, Tensor k, Tensor v, Tensor? additiveMask, bool causal, double scale, bool grouped) =>
        Tensor.AttentionOp(q, k, v, additiveMask, causal, scale, grouped);

    public Tensor? LayerNorm(Tensor x, int width, Tensor? weight, Tensor? bias, double eps) =>
        x.DType is DType.Float32 or DType.Float64 ? Tensor.LayerNormOp(x, width, weight, bias, eps) : null;

    public Tensor? RmsNorm(Tensor x, int width, Tensor? weight, double eps)
    {
        if (x.DType is not (DType.Float32 or DType.Float64)) return null;
        var stats = new Tensor[2];
        var y = Tensor.LayerNormOp(x, width, weight, null, eps, stats, center: false);
        stats[1].Dispose();
        return y;
    }

    public Tensor? BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training, double momentum, double eps) =>
        x.DType is DType.Float32 or DType.Float64 ? Tensor.BatchNormOp(x, runningMean, runningVar, weight, bias, training, momentum, eps) : null;

    public Tensor LstmLayer(Tensor proj, Tensor h0, Tensor c0, Tensor whh, Tensor? whr, bool reverse, Tensor? lengths) => Tensor.HostLstm(proj, h0, c0, whh, whr, reverse, lengths);

    public Tensor GruLayer(Tensor proj, Tensor h0, Tensor whh, Tensor? bhh, bool reverse, Tensor? lengths) => Tensor.HostGru(proj, h0, whh, bhh, reverse, lengths);
}
