using Kiln.Compiler.Ops;
using Kiln.Kernels.Reduce;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// mse_loss of same-shaped, contiguous-or-not float32/float64 CPU tensors as one op: Σ (input - target)² in one pass
    /// (÷ N for the mean), recorded with a backward of two passes where the composition (difference, square, mean) took
    /// three forward and five backward ones.
    /// </summary>
    internal static Tensor MseLossOp(Tensor input, Tensor target, bool mean)
    {
        using var xc = input.ContiguousInternal();
        using var tc = target.ContiguousAs(input.DType);
        long n = input.Numel;
        double sum = input.DType == DType.Float32 ? SquaredDistance.Of(xc.Ptr<float>(), tc.Ptr<float>(), n) : SquaredDistance.Of(xc.Ptr<double>(), tc.Ptr<double>(), n);
        double value = mean ? sum / n : sum;   // the mean of nothing is NaN, as PyTorch's
        var y = Allocate([], input.DType);
        if (input.DType == DType.Float32) *y.Ptr<float>() = (float)value;
        else *y.Ptr<double>() = value;
        return Record("mse_loss", y, new MseLossArgs(mean), input, target);
    }
}
