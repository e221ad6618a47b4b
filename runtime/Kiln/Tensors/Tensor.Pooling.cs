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
        long planes = (long)n * c;
        if (x.IsCuda) Gpu.GpuOps.MaxPool2d(xc, y, indices, Gpu.GpuOps.Window(x._shape, oh, ow, g));
        else if (x.DType == DType.Float32) MaxPoolKernel.Forward(xc.Ptr<float>(), y.Ptr<float>(), indices.Ptr<long>(), planes, h, w, oh, ow, g);
        else MaxPoolKernel.Forward(xc.Ptr<double>(), y.Ptr<double>(), indices.Ptr<long>(), planes, h, w, oh, ow, g);
        var args = new int[9];
        g.ToArgs().CopyTo(args, 0);
        args[8] = ceil ? 1 : 0;
        return (Record(op, y, new OpArgs { Sizes = args }, x, indices), indices);
    }

    /// <summary>The input gradient of <see cref="MaxPool2dOp"/>: each output gradient added at its saved position.</summary>
    internal static Tensor MaxPool2dBackwardOp(Tensor grad, Tensor indices, int[] inputShape)
    {
        using var gc = grad.ContiguousInternal();
        using var ic = indices.ContiguousInternal();
        long planes = (long)inputShape[0] * inputShape[1];
        int inPlane = inputShape[2] * inputShape[3], outPlane = grad._shape[2] * grad._shape[3];
        if (grad.IsCuda)
        {
            // Each output's gradient added at its saved position: a scatter-add along the flattened planes.
            var dxc = Zeros((int[])inputShape.Clone(), grad.DType, grad.Device);
            using var flat = dxc.Reshape(checked((int)planes), inPlane);
            using var g2 = gc.Reshape(checked((int)planes), outPlane);
            using var i2 = ic.Reshape(checked((int)planes), outPlane);
            Gpu.GpuOps.Scatter(flat, g2, i2, 1, add: true);
            return dxc;
        }
        var dx = Allocate((int[])inputShape.Clone(), grad.DType);
        if (grad.DType == DType.Float32) MaxPoolKernel.Backward(gc.Ptr<float>(), ic.Ptr<long>(), dx.Ptr<float>(), planes, inPlane, outPlane);
        else MaxPoolKernel.Backward(gc.Ptr<double>(), ic.Ptr<long>(), dx.Ptr<double>(), planes, inPlane, outPlane);
        return dx;
    }
}
