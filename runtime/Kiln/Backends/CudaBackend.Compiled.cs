using System;
using Kiln.Compilation;
using Kiln.Kernels.Gemm;
using Kiln.NN;

namespace Kiln.Backends;

// What compiled models run on the CUDA device (CudaCompiledOps: cuBLASLt or the GEMM kernel with the epilogue as elementwise kernels).
internal sealed partial class CudaBackend
{
    public (Tensor Output, Tensor? PreActivation) LinearEpilogue(Tensor x, Tensor w, Tensor? b, GemmActivation activation, float[]? multiplier, bool keepPreActivation) =>
        CudaCompiledOps.LinearForward(x, w, b, activation, multiplier, keepPreActivation);

    public (Tensor? Input, Tensor Weight, Tensor? Bias) LinearEpilogueBackward(Tensor x, Tensor w, bool hasBias, Tensor grad, Tensor? output, float scale, bool needInput) =>
        CudaCompiledOps.LinearBackward(x, w, hasBias, grad, output, scale, needInput);

    // The produce callback is a CPU loop: the GPU's group before the norm has already run as its own kernel.
    public (Tensor Output, Tensor Mean, Tensor Rstd) CompiledLayerNorm(LayerNorm layer, Tensor x, Action<long, long>? produce) => CudaCompiledOps.LayerNorm(layer, x);

    public (Tensor Input, Tensor? Weight, Tensor? Bias) CompiledLayerNormBackward(LayerNorm layer, Tensor x, Tensor mean, Tensor rstd, Tensor grad) =>
        CudaCompiledOps.LayerNormBackward(layer, x, mean, rstd, grad);

    public (Tensor Output, Tensor Rstd) CompiledRmsNorm(RMSNorm layer, Tensor x, double eps, Action<long, long>? produce) => CudaCompiledOps.RmsNorm(layer, x, eps);

    public (Tensor Input, Tensor? Weight) CompiledRmsNormBackward(RMSNorm layer, Tensor x, Tensor rstd, Tensor grad) => CudaCompiledOps.RmsNormBackward(layer, x, rstd, grad);

    public (Tensor Output, Tensor Mean, Tensor Rstd) CompiledBatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool useBatch, bool training, double momentum, double eps) =>
        CudaCompiledOps.BatchNorm(x, runningMean, runningVar, weight, bias, useBatch, training, momentum, eps);

    public (Tensor? Input, Tensor? Weight, Tensor? Bias) CompiledBatchNormBackward(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, bool batchStatistics, bool needInput) =>
        CudaCompiledOps.BatchNormBackward(x, weight, hasBias, mean, rstd, grad, batchStatistics, needInput);

    public (Tensor Loss, Tensor Lse, long Count) CrossEntropyRows(Tensor rows, Tensor target, long ignoreIndex) => CudaCompiledOps.CrossEntropy(rows, target, ignoreIndex);

    public Tensor CrossEntropyRowsBackward(Tensor rows, Tensor target, Tensor lse, long count, Tensor grad, long ignoreIndex) =>
        CudaCompiledOps.CrossEntropyBackward(rows, target, lse, count, grad, ignoreIndex);
}
