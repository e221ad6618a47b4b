using Kiln.Compiler.Ops;
using Kiln.Compiler.Shapes;
using Kiln.Kernels.Pooling;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>
    /// Fused 2-D max pool of a batched [N, C, H, W] input (geometry checked by the caller): the maxima and, as int64
    /// [N, C, OH, OW], where each came from (h·W + w in its plane), which the backward scatters through.
    /// </summary>
    internal static (Tensor Values, Tensor Indices) MaxPool2dOp(Tensor x, ConvGeometry g, bool ceil)
    {
        const string op = "max_pool2d";
        RequireFloat(op, x);
        int n = x._shape[0], c = x._shape[1], h = x._shape[2], w = x._shape[3];
        var (oh, ow) = g.Output(op, h, w, ceil);
        using var xc = x.ContiguousInternal();
        var y = Allocate([n, c, oh, ow], x.DType, false, x.Device);
        var indices = Allocate([n, c, oh, ow], DType.Int64, false, x.Device);
        x.Backend.MaxPool2d(xc, y, indices, g);
        return (Record(op, y, new PoolArgs(g, ceil), x, indices), indices);
    }

    /// <summary>The input gradient of <see cref="MaxPool2dOp"/>: each output gradient added at its saved position.</summary>
    internal static Tensor MaxPool2dBackwardOp(Tensor grad, Tensor indices, int[] inputShape)
    {
        using var gc = grad.ContiguousInternal();
        using var ic = indices.ContiguousInternal();
        return grad.Backend.MaxPool2dBackward(gc, ic, inputShape);
    }
}
