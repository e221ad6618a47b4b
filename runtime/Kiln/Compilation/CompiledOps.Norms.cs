using Kiln.Compiler.Shapes;
using Kiln.NN;

namespace Kiln.Compilation;

public static partial class CompiledOps
{
    /// <summary>Whether an RMSNorm normalises over the last dim only (the form the compiled kernels handle).</summary>
    public static bool Fusable(RMSNorm layer) => layer.NormalizedShape.Length == 1;

    /// <summary>
    /// An RMSNorm over the last dim, unrecorded, with the row 1/rms its backward reads (on the device's compiled form: the
    /// CPU's layer-norm kernel without centring, a CUDA device's row ops); <paramref name="produce"/> as for
    /// <see cref="LayerNorm(NN.LayerNorm, Tensor, System.Action{long, long}?)"/>.
    /// </summary>
    public static (Tensor Output, Tensor Rstd) RmsNorm(RMSNorm layer, Tensor x, System.Action<long, long>? produce = null)
    {
        LayerRules.TrailingDims("rms_norm", x.ShapeArray, layer.NormalizedShape);
        // eps as the eager layer takes it: the dtype's machine epsilon when unset.
        return x.Backend.CompiledRmsNorm(layer, x, layer.Eps ?? 1.1920928955078125e-07, produce);
    }

    /// <summary>Gradients of an RMSNorm over the last dim: the input's and the weight's (null without one).</summary>
    public static (Tensor Input, Tensor? Weight) RmsNormBackward(RMSNorm layer, Tensor x, Tensor rstd, Tensor grad) =>
        x.Backend.CompiledRmsNormBackward(layer, x, rstd, grad);

    /// <summary>The CPU form of <see cref="RmsNorm"/>: the layer-norm kernel without centring.</summary>
    internal static (Tensor Output, Tensor Rstd) CpuRmsNorm(RMSNorm layer, Tensor x, double eps, System.Action<long, long>? produce)
    {
        using (Autograd.NoGrad())
        {
            var stats = new Tensor[2];
            var y = Tensor.LayerNormOp(x, layer.NormalizedShape[0], layer.Weight, null, eps, stats, false, produce);
            return (y, stats[1]);
        }
    }

    /// <summary>The CPU form of <see cref="RmsNormBackward"/>.</summary>
    internal static (Tensor Input, Tensor? Weight) CpuRmsNormBackward(RMSNorm layer, Tensor x, Tensor rstd, Tensor grad)
    {
        var r = Tensor.LayerNormBackwardOp(x, layer.Weight, false, null, rstd, grad, layer.NormalizedShape[0]);
        return (r[0]!, r[1]);
    }

    /// <summary>
    /// A BatchNorm1d/2d forward, unrecorded: the batch's statistics in training (the running ones updated as the eager layer
    /// does) or the running ones in eval; with the per-channel mean and 1/σ used and whether they were the batch's.
    /// </summary>
    public static (Tensor Output, Tensor Mean, Tensor Rstd, bool BatchStatistics) BatchNorm(BatchNormBase layer, Tensor x)
    {
        var step = layer.Begin(x);
        int n = x.Size(0), c = x.Size(1);
        long s = x.Numel / System.Math.Max(1L, (long)n * c);
        if (step.UseBatch && layer.Training && (long)n * s <= 1)
            throw new KilnException("batch_norm", $"batch_norm: Expected more than 1 value per channel when training, got input size {ShapeText.Format(x.ShapeArray)}", KilnErrorKind.Shape);
        using var noGrad = Autograd.NoGrad();
        var (y, mean, rstd) = x.Backend.CompiledBatchNorm(x, step.RunningMean, step.RunningVar, layer.Weight, layer.Bias, step.UseBatch, layer.Training, step.Momentum, layer.Eps);
        return (y, mean, rstd, step.UseBatch);
    }

    /// <summary>Gradients of a BatchNorm forward from its saved input and statistics: the input's (when asked), the weight's and the bias's (null without them).</summary>
    public static (Tensor? Input, Tensor? Weight, Tensor? Bias) BatchNormBackward(BatchNormBase layer, Tensor x, Tensor mean, Tensor rstd, bool batchStatistics, Tensor grad, bool needInput)
    {
        using var noGrad = Autograd.NoGrad();
        return x.Backend.CompiledBatchNormBackward(x, layer.Weight, layer.Bias is not null, mean, rstd, grad, batchStatistics, needInput);
    }

    /// <summary>The CPU form of <see cref="BatchNorm"/>: the eager op's statistics and normalisation kernels (one for both paths).</summary>
    internal static (Tensor Output, Tensor Mean, Tensor Rstd) CpuBatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool useBatch, bool training, double momentum, double eps)
    {
        using var xc = x.Contiguous();
        var (mean, rstd) = Tensor.BatchNormStatistics(xc, runningMean, runningVar, useBatch, training, momentum, eps);
        return (Tensor.BatchNormNormalize(xc, mean, rstd, weight, bias), mean, rstd);
    }

    /// <summary>The CPU form of <see cref="BatchNormBackward"/>.</summary>
    internal static (Tensor? Input, Tensor? Weight, Tensor? Bias) CpuBatchNormBackward(Tensor x, Tensor? weight, bool hasBias, Tensor mean, Tensor rstd, Tensor grad, bool batchStatistics, bool needInput)
    {
        var r = Tensor.BatchNormBackwardOp(x, weight, hasBias, mean, rstd, grad, batchStatistics, needInput);
        return (r[0], r[1], r[2]);
    }
}
