using System;
using Kiln.Compilation;
using Kiln.Kernels.Gemm;
using Kiln.NN;

namespace Kiln.Backends;

// What compiled models run on the CPU: the fused Linear epilogue GEMMs, layer, RMS and batch norm with kept statistics, cross entropy rows.
internal sealed partial class CpuBackend
{
    public (Tensor Output, Tensor? PreActivation) LinearEpilogue(Tensor x, Tensor w, Tensor? b, GemmActivation activation, float[]? multiplier, bool keepPreActivation) =>
        FusedLinear.CpuForward(x, w, b, activation, multiplier, keepPreActivation);

    public (Tensor? Input, Tensor Weight, Tensor? Bias) LinearEpilogueBackward(Tensor x, Tensor w, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput)
    {
        var r = FusedLinear.CpuBackward(x, w, hasBias, grad, output, scale, needInput);
        return (r.Input, r.Weight!, r.Bias);
    }

    public (Tensor Output, Tensor Mean, Tensor Rstd) CompiledLayerNorm(LayerNorm layer, Tensor x, Action<long, long>? produce) => CompiledOps.CpuLayerNorm(layer, x, produce);

    public (Tensor Input, Tensor? Weight, Tensor? Bias) CompiledLayerNormBackward(LayerNorm layer, Tensor x, Tensor mean, Tensor rstd, Tensor grad) =>
        CompiledOps.CpuLayerNormBackward(layer, x, mean, rstd, grad);

    public (Tensor Output, Tensor Rstd) CompiledRmsNorm(RMSNorm layer, Tensor x, double eps, Action<long, long>? produce) => CompiledOps.CpuRmsNorm(layer, x, eps, produce);

    public (Tensor Input, Tensor? Weight) CompiledRmsNormBackward(RMSNorm layer, Tensor x, Tensor rstd, Tensor grad) => CompiledOps.CpuRmsNormBackward(layer, x, rstd, grad);

    public (Tensor Output, Tensor Mean, Tensor Rstd) CompiledBatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool useBatch, bool training, double momentum, double eps) =>
        CompiledOps.CpuBatchNorm(x, runningMean, runningVar, weight, bias, useBatch, training, momentum, eps);

    public (Tensor? Input, Tensor? Weight, Tensor? Bias) CompiledBatchNormBackward(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, bool batchStatistics, bool needInput) =>
        CompiledOps.CpuBatchNormBackward(x, weight, hasBias, mean, rstd, grad, batchStatistics, needInput);

    public (Tensor Loss, Tensor Lse, long Count) CrossEntropyRows(Tensor rows, Tensor target, long ignoreIndex) => CompiledOps.CpuCrossEntropy(rows, target, ignoreIndex);

    public Tensor CrossEntropyRowsBackward(Tensor rows, Tensor target, Tensor lse, long count, Tensor grad, long ignoreIndex) =>
        CompiledOps.CpuCrossEntropyBackward(rows, target, lse, count, grad, ignoreIndex);
}
