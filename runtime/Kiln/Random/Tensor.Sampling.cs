using System;
using Kiln.Compiler.Shapes;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>A random permutation of 0..n-1 as int64 (<c>torch.randperm</c>), from the generator's stream.</summary>
    public static Tensor Randperm(int n, Generator? generator = null)
    {
        if (n < 0) throw new KilnException("randperm", $"randperm: n must be non-negative, got {n}");
        var perm = Data.Samplers.Permutation(n, generator);
        var values = new long[n];
        for (int i = 0; i < n; i++) values[i] = perm[i];
        return From(values, n);
    }

    /// <summary>1 with probability given by each element of this tensor, else 0, in its dtype (<c>torch.bernoulli(p)</c>).</summary>
    public Tensor Bernoulli(Generator? generator = null)
    {
        const string op = "bernoulli";
        if (!DType.IsFloatingPoint()) throw new KilnException(op, $"{op}: expected floating-point probabilities, got {DType}", KilnErrorKind.DType);
        using var grad = GradMode.Set(false);
        using (var low = Lt(0)) using (var high = Gt(1)) using (var bad = low.BitwiseOr(high)) using (var any = bad.Any())
            if (any.Item<bool>()) throw new KilnException(op, $"{op}: probabilities must lie in [0, 1]", KilnErrorKind.Shape);
        using var draw = Rand(_shape, DType, generator);
        using var onDevice = draw.To(Device);
        using var hit = onDevice.Lt(this);
        return hit.To(DType);
    }

    /// <summary>
    /// Draws <paramref name="numSamples"/> category indices per row of the (unnormalised, non-negative) weights in this
    /// 1-D or 2-D tensor (<c>torch.multinomial</c>). Without replacement a category is drawn at most once per row
    /// (weighted sampling by exponential keys); with it, by inverse CDF.
    /// </summary>
    public Tensor Multinomial(int numSamples, bool replacement = false, Generator? generator = null)
    {
        const string op = "multinomial";
        if (Dim != 1 && Dim != 2) throw new KilnException(op, $"{op}: prob_dist must be 1 or 2 dim, got shape {ShapeText.Format(_shape)}", KilnErrorKind.Shape);
        if (numSamples <= 0) throw new KilnException(op, $"{op}: cannot sample n_sample <= 0 samples");
        using var grad = GradMode.Set(false);
        using var host = IsCuda ? Cpu() : Alias();
        using var matrix = host.Dim == 1 ? host.Unsqueeze(0) : host.Alias();
        using var weights = Kernels.CopyKernel.Convert(matrix, DType.Float64);
        int rows = weights._shape[0], categories = weights._shape[1];
        double* w = weights.Ptr<double>();
        if (!replacement && numSamples > categories)
            throw new KilnException(op, $"{op}: cannot sample n_sample > prob_dist.size(-1) samples without replacement ({numSamples} > {categories})", KilnErrorKind.Shape);
        using var uniform = Rand([rows, replacement ? numSamples : categories], DType.Float64, generator);
        double* u = uniform.Ptr<double>();
        var result = Allocate([rows, numSamples], DType.Int64);
        long* r = result.Ptr<long>();
        var keys = new double[categories];
        var order = new int[categories];
        for (int row = 0; row < rows; row++)
        {
            double* p = w + (long)row * categories;
            double total = 0;
            int positive = 0;
            for (int c = 0; c < categories; c++)
            {
                if (!(p[c] >= 0) || double.IsInfinity(p[c])) throw new KilnException(op, $"{op}: probability tensor contains either inf, nan or element < 0");
                total += p[c];
                if (p[c] > 0) positive++;
            }
            if (total <= 0) throw new KilnException(op, $"{op}: invalid multinomial distribution (sum of probabilities <= 0)");
            if (!replacement && numSamples > positive)
                throw new KilnException(op, $"{op}: invalid multinomial distribution (with replacement=False, not enough non-negative category to sample): row {row} has {positive} categories of non-zero weight");
            if (replacement)
            {
                for (int s = 0; s < numSamples; s++)
                {
                    double target = u[(long)row * numSamples + s] * total, acc = 0;
                    int chosen = categories - 1;
                    for (int c = 0; c < categories; c++)
                    {
                        acc += p[c];
                        if (target < acc && p[c] > 0) { chosen = c; break; }
                    }
                    while (p[chosen] == 0) chosen--; // rounding at the very top lands on the last positive category
                    r[(long)row * numSamples + s] = chosen;
                }
            }
            else
            {
                // Efraimidis–Spirakis: the largest u^(1/w) keys are a weighted sample without replacement.
                for (int c = 0; c < categories; c++)
                {
                    keys[c] = p[c] > 0 ? Math.Log(u[(long)row * categories + c]) / p[c] : double.NegativeInfinity;
                    order[c] = c;
                }
                Array.Sort(keys, order);
                for (int s = 0; s < numSamples; s++) r[(long)row * numSamples + s] = order[categories - 1 - s];
            }
        }
        var shaped = Dim == 1 ? result.Reshape(numSamples) : result.Alias();
        result.Dispose();
        if (!IsCuda) return shaped;
        using (shaped) return shaped.To(Device);
    }
}
