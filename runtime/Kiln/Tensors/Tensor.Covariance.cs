using Kiln.Compiler.Shapes;

namespace Kiln;

// Covariance and correlation of variables observed together (rows are variables, columns observations), as numpy and
// torch.cov define them, composed of recorded ops.
public sealed partial class Tensor
{
    /// <summary>
    /// The covariance matrix of the rows (variables) over the columns (observations) (<c>torch.cov</c>). Observations may be
    /// weighted by integer frequencies <paramref name="fweights"/> and by <paramref name="aweights"/>; <paramref name="correction"/>
    /// is subtracted from the (weighted) observation count, 1 giving the unbiased estimate. A 1-D input is one variable.
    /// </summary>
    public Tensor Cov(int correction = 1, Tensor? fweights = null, Tensor? aweights = null)
    {
        using var scope = Tensor.Scope();
        const string op = "cov";
        if (Dim > 2) throw new KilnException(op, $"{op}: expected input to have two or fewer dimensions but got an input with {Dim} dimensions", KilnErrorKind.Shape);
        using var x = Dim < 2 ? Reshape(1, -1) : To(DType);
        int observations = x._shape[1];
        if (!DType.IsFloatingPoint())
        {
            using var wide = x.To(DTypes.Default);
            return scope.Keep(wide.Cov(correction, fweights, aweights));
        }
        using var weights = ObservationWeights(op, observations, fweights, aweights);
        using var sum = weights is null ? Full([], observations, DType, Device) : weights.Sum();
        using var weighted = weights is null ? x.To(DType) : x.Mul(weights);
        using var weightedSum = weighted.Sum(1, keepDim: true);
        using var mean = weightedSum.Div(sum);
        using var centred = x.Sub(mean);
        using var centredWeighted = weights is null ? centred.To(DType) : centred.Mul(weights);
        using var products = centred.Matmul(centredWeighted.T);     // [vars, vars]
        // The normaliser: Σw − correction, or with aweights Σw − correction·Σ(w·a)/Σw (numpy's rule); never below 0.
        Tensor norm;
        if (aweights is not null && correction != 0)
        {
            using var a = aweights.To(DType);
            using var wa = weights!.Mul(a);
            using var waSum = wa.Sum();
            using var ratio = waSum.Div(sum);
            using var shift = ratio.Mul(correction);
            norm = sum.Sub(shift);
        }
        else norm = sum.Sub(correction);
        using (norm)
        using (var clamped = norm.Clamp(0, null))
        {
            var c = products.Div(clamped);
            if (Dim >= 2) return scope.Keep(c);
            using (c) return scope.Keep(c.Reshape([]));
        }
    }

    /// <summary>
    /// Pearson correlation coefficients of the rows (<c>torch.corrcoef</c>): the covariance scaled by both standard
    /// deviations, clipped to [-1, 1].
    /// </summary>
    public Tensor Corrcoef()
    {
        using var scope = Tensor.Scope();
        using var c = Cov();
        if (c.Dim == 0) return scope.Keep(c.Div(c));
        using var diagonal = c.Diagonal();
        using var std = diagonal.Sqrt();
        using var byRow = c.Div(std.Unsqueeze(1));
        using var both = byRow.Div(std.Unsqueeze(0));
        return scope.Keep(both.Clamp(-1, 1));
    }

    /// <summary>fweights · aweights as this dtype, checked (1-D, one per observation, fweights integral and non-negative); null when neither.</summary>
    Tensor? ObservationWeights(string op, int observations, Tensor? fweights, Tensor? aweights)
    {
        Tensor? w = null;
        foreach (var (name, given) in new[] { ("fweights", fweights), ("aweights", aweights) })
        {
            if (given is null) continue;
            if (given.Dim > 1 || given.Numel != observations)
                throw new KilnException(op, $"{op}: expected {name} to have one element per observation ({observations}), got shape {ShapeText.Format(given.ShapeArray)}", KilnErrorKind.Shape);
            if (name == "fweights" && (given.DType.IsFloatingPoint() || given.DType == DType.Bool))
                throw new KilnException(op, $"{op}: expected fweights to have integral dtype, got {given.DType}", KilnErrorKind.DType);
            using var negative = given.Lt(0);
            using var anyNegative = negative.Any();
            if (anyNegative.Item<bool>())
                throw new KilnException(op, $"{op}: {name} cannot be negative");
            using var asType = given.To(DType);
            using var flat = asType.Reshape(-1);
            var next = w is null ? flat.To(DType) : w.Mul(flat);
            w?.Dispose();
            w = next;
        }
        return w;
    }
}
