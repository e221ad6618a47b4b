using System;
using System.Collections.Generic;

namespace Kiln.NN;

/// <summary>
/// Gradient clipping and parameter vectors (<c>torch.nn.utils.clip_grad_norm_</c>, <c>clip_grad_value_</c>,
/// <c>get_total_norm</c>, <c>clip_grads_with_norm_</c>, <c>parameters_to_vector</c>, <c>vector_to_parameters</c>).
/// </summary>
public static class GradClipping
{
    /// <summary>
    /// Scales all gradients together so their combined <paramref name="normType"/>-norm is at most <paramref name="maxNorm"/>;
    /// returns the norm before clipping.
    /// </summary>
    public static double ClipGradNorm_(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2, bool errorIfNonfinite = false)
    {
        var grads = Gradients(parameters);
        if (grads.Count == 0) return 0;
        double total = GetTotalNorm(grads, normType, errorIfNonfinite);
        Scale(grads, maxNorm, total);
        return total;
    }

    /// <summary>
    /// The <paramref name="normType"/>-norm of all <paramref name="tensors"/> together, as if concatenated
    /// (<c>torch.nn.utils.get_total_norm</c>; pass gradients); 0 for none.
    /// </summary>
    public static double GetTotalNorm(IEnumerable<Tensor> tensors, double normType = 2, bool errorIfNonfinite = false)
    {
        double total = 0;
        using (Autograd.NoGrad())
        {
            if (double.IsPositiveInfinity(normType))
                foreach (var t in tensors) { using var a = t.Abs(); using var m = a.Max(); total = Math.Max(total, m.To(DType.Float64).Item<double>()); }
            else
            {
                double acc = 0;
                foreach (var t in tensors) { using var n = t.Norm(normType); acc += Math.Pow(n.To(DType.Float64).Item<double>(), normType); }
                total = Math.Pow(acc, 1 / normType);
            }
        }
        if (errorIfNonfinite && !double.IsFinite(total))
            throw new KilnException("clip_grad_norm_", $"clip_grad_norm_: The total norm of order {normType} for gradients from `parameters` is non-finite, so it cannot be clipped.");
        return total;
    }

    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> by maxNorm / (totalNorm + 1e-6) when that is below 1
    /// (<c>torch.nn.utils.clip_grads_with_norm_</c>: the second half of <see cref="ClipGradNorm_"/>, for a norm found
    /// with <see cref="GetTotalNorm"/>, e.g. over several parameter groups or ranks).
    /// </summary>
    public static void ClipGradsWithNorm_(IEnumerable<Tensor> parameters, double maxNorm, double totalNorm) => Scale(Gradients(parameters), maxNorm, totalNorm);

    static void Scale(List<Tensor> grads, double maxNorm, double totalNorm)
    {
        double coef = maxNorm / (totalNorm + 1e-6);
        if (coef >= 1) return;
        using var _ = Autograd.NoGrad();
        foreach (var g in grads) g.Mul_(coef);
    }

    static List<Tensor> Gradients(IEnumerable<Tensor> parameters)
    {
        var grads = new List<Tensor>();
        foreach (var p in parameters) if (p.GradInternal is { } g) grads.Add(g);
        return grads;
    }

    /// <summary>
    /// All <paramref name="parameters"/> flattened into one 1-D tensor, in order (<c>parameters_to_vector</c>); no gradient
    /// history is kept apart from the concatenation's.
    /// </summary>
    public static Tensor ParametersToVector(IEnumerable<Tensor> parameters)
    {
        var flat = new List<Tensor>();
        try
        {
            foreach (var p in parameters) flat.Add(p.Reshape(-1));
            if (flat.Count == 0) throw new KilnException("parameters_to_vector", "parameters_to_vector: no parameters", KilnErrorKind.Argument);
            return Tensor.Cat(flat, 0);
        }
        finally
        {
            foreach (var f in flat) f.Dispose();
        }
    }

    /// <summary>
    /// Copies consecutive slices of the 1-D <paramref name="vector"/> into <paramref name="parameters"/>, in order
    /// (<c>vector_to_parameters</c>); its length must equal their total size.
    /// </summary>
    public static void VectorToParameters(Tensor vector, IEnumerable<Tensor> parameters)
    {
        const string op = "vector_to_parameters";
        if (vector.Dim != 1) throw new KilnException(op, $"{op}: expected a 1-D vector, got shape {Compiler.Shapes.ShapeText.Format(vector.ShapeArray)}", KilnErrorKind.Shape);
        var list = new List<Tensor>(parameters);
        long total = 0;
        foreach (var p in list) total += p.Numel;
        if (total != vector.Numel)
            throw new KilnException(op, $"{op}: the vector has {vector.Numel} elements, the parameters {total}", KilnErrorKind.Shape);
        using var _ = Autograd.NoGrad();
        long offset = 0;
        foreach (var p in list)
        {
            using var slice = vector.Narrow(0, offset, (int)p.Numel);
            using var shaped = slice.Reshape(p.ShapeArray);
            p.Copy_(shaped);
            offset += p.Numel;
        }
    }

    /// <summary>Clamps every gradient element into [-<paramref name="clipValue"/>, <paramref name="clipValue"/>].</summary>
    public static void ClipGradValue_(IEnumerable<Tensor> parameters, double clipValue)
    {
        using var _ = Autograd.NoGrad();
        foreach (var p in parameters) p.GradInternal?.Clamp_(-clipValue, clipValue);
    }
}
