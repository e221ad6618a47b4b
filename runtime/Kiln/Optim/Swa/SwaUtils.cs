using System;
using System.Collections.Generic;
using Kiln.NN;

namespace Kiln.Optim.Swa;

/// <summary>Helpers of stochastic weight averaging (<c>torch.optim.swa_utils</c>).</summary>
public static class SwaUtils
{
    /// <summary>
    /// Recomputes every batch norm's running statistics of <paramref name="model"/> from one pass over
    /// <paramref name="inputs"/> (<c>update_bn</c>): an averaged model's weights never produced the statistics its batch
    /// norms hold, so they are reset and accumulated as a plain average (momentum None) in training mode, then each
    /// layer's momentum and the model's mode are restored. Nothing is recorded for gradients.
    /// </summary>
    /// <param name="inputs">The model's inputs, batch by batch.</param>
    /// <param name="model">The model (an <see cref="AveragedModel{T}"/>'s <c>Module</c>, or the averaged model itself).</param>
    /// <param name="device">Moves each batch there first, when given.</param>
    public static void UpdateBn(IEnumerable<Tensor> inputs, Module<Tensor, Tensor> model, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(model);
        var momenta = new List<(BatchNormBase Layer, double? Momentum)>();
        foreach (var m in model.Modules())
            if (m is BatchNormBase bn && bn.RunningMean is { } mean && bn.RunningVar is { } variance)
            {
                using (Autograd.NoGrad())
                {
                    mean.Zero_();
                    variance.Fill_(1);
                }
                momenta.Add((bn, bn.Momentum));
            }
        if (momenta.Count == 0) return;
        bool wasTraining = model.Training;
        model.Train();
        try
        {
            foreach (var (layer, _) in momenta)
            {
                layer.Momentum = null;
                using (Autograd.NoGrad()) layer.NumBatchesTracked?.Zero_();
            }
            using var noGrad = Autograd.NoGrad();
            foreach (var batch in inputs)
            {
                using var moved = device is { } d && batch.Device != d ? batch.To(d) : null;
                using var output = model.Forward(moved ?? batch);
            }
        }
        finally
        {
            foreach (var (layer, momentum) in momenta) layer.Momentum = momentum;
            model.Train(wasTraining);
        }
    }

    /// <summary>
    /// <see cref="UpdateBn(IEnumerable{Tensor}, Module{Tensor, Tensor}, Device?)"/> over a loader of tuples (a
    /// <see cref="Data.DataLoader"/> of a tensor dataset): each batch's first tensor is the input, as PyTorch takes
    /// <c>input[0]</c>.
    /// </summary>
    public static void UpdateBn(IEnumerable<Tensor[]> loader, Module<Tensor, Tensor> model, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(loader);
        UpdateBn(FirstOfEach(loader), model, device);
    }

    static IEnumerable<Tensor> FirstOfEach(IEnumerable<Tensor[]> loader)
    {
        foreach (var batch in loader)
        {
            if (batch.Length == 0) throw new KilnException("update_bn", "update_bn: a batch holds no tensor", KilnErrorKind.Argument);
            yield return batch[0];
        }
    }
}
