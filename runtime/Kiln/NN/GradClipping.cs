using System;
using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>Gradient clipping (<c>torch.nn.utils.clip_grad_norm_</c>, <c>clip_grad_value_</c>).</summary>
public static class GradClipping
{
    /// <summary>
    /// Scales all gradients together so their combined <paramref name="normType"/>-norm is at most <paramref name="maxNorm"/>;
    /// returns the norm before clipping.
    /// </summary>
    public static double ClipGradNorm_(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2, bool errorIfNonfinite = false)
    {
        var grads = new List<Tensor>();
        foreach (var p in parameters) if (p.GradInternal is { } g) grads.Add(g);
        if (grads.Count == 0) return 0;
        double total;
        using (Autograd.NoGrad())
        {
            if (double.IsPositiveInfinity(normType))
            {
                total = 0;
                foreach (var g in grads) { using var a = g.Abs(); using var m = a.Max(); total = Math.Max(total, m.To(DType.Float64).Item<double>()); }
            }
            else
            {
                double acc = 0;
                foreach (var g in grads) { using var n = g.Norm(normType); acc += Math.Pow(n.To(DType.Float64).Item<double>(), normType); }
                total = Math.Pow(acc, 1 / normType);
            }
            if (errorIfNonfinite && !double.IsFinite(total))
                throw new KilnException("clip_grad_norm_", $"clip_grad_norm_: The total norm of order {normType} for gradients from `parameters` is non-finite, so it cannot be clipped.");
            double coef = maxNorm / (total + 1e-6);
            if (coef < 1)
                foreach (var g in grads) g.Mul_(coef);
        }
        return total;
    }

    /// <summary>Clamps every gradient element into [-<paramref name="clipValue"/>, <paramref name="clipValue"/>].</summary>
    public static void ClipGradValue_(IEnumerable<Tensor> parameters, double clipValue)
    {
        using var _ = Autograd.NoGrad();
        foreach (var p in parameters) p.GradInternal?.Clamp_(-clipValue, clipValue);
    }
}
