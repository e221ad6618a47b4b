using Kiln.Gpu;
using Kiln.Gpu.Kernels;
using Kiln.Kernels.Elementwise;

namespace Kiln.Backends;

/// <summary>The CUDA device: ILGPU kernels (<see cref="GpuOps"/>), PTX from the build's kernel bundle.</summary>
internal sealed partial class CudaBackend : IBackend
{
    public static readonly CudaBackend Instance = new();

    public void Unary<TOp>(Tensor y, Tensor x, TOp op) where TOp : struct, IUnaryOp => GpuOps.Unary(y, x, op);
    public void Binary<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryOp => GpuOps.Binary(y, a, b, op);
    public void Compare<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, ICompareOp => GpuOps.Compare(y, a, b, op);
    public void Where(Tensor y, Tensor cond, Tensor a, Tensor b) => GpuOps.Where(y, cond, a, b);
    public void RowSum(Tensor x, Tensor y, long rows, long length) => GpuOps.RowReduce(x, y, rows, length, RowKernels.Sum);
    public void RowProd(Tensor x, Tensor y, long rows, long length) => GpuOps.RowReduce(x, y, rows, length, RowKernels.Prod);
    public void RowExtreme(Tensor x, Tensor values, Tensor indices, long rows, long length, bool max) => GpuOps.Extreme(x, values, indices, rows, length, max);
    public void RowSoftmax(Tensor x, Tensor y, long rows, int length, bool log, float scale) => GpuOps.Softmax(x, y, rows, length, log, scale);
    public void RowCumSum(Tensor x, long rows, long length) => GpuOps.CumSum(x, rows, length);

    public void MaxPool2d(Tensor x, Tensor y, Tensor indices, Kiln.Compiler.Shapes.ConvGeometry g) =>
        GpuOps.MaxPool2d(x, y, indices, GpuOps.Window(x.ShapeArray, y.ShapeArray[2], y.ShapeArray[3], g));

    public Tensor MaxPool2dBackward(Tensor grad, Tensor indices, int[] inputShape)
    {
        // A scatter-add along the flattened planes.
        long planes = (long)inputShape[0] * inputShape[1];
        int inPlane = inputShape[2] * inputShape[3], outPlane = grad.ShapeArray[2] * grad.ShapeArray[3];
        var dx = Tensor.Zeros((int[])inputShape.Clone(), grad.DType, grad.Device);
        using var flat = dx.Reshape(checked((int)planes), inPlane);
        using var g2 = grad.Reshape(checked((int)planes), outPlane);
        using var i2 = indices.Reshape(checked((int)planes), outPlane);
        GpuOps.Scatter(flat, g2, i2, 1, add: true);
        return dx;
    }

    public void Sgd(Tensor p, Tensor grad, Tensor? buf, SgdStep s) => GpuOps.Sgd(p, grad, buf, new SgdArgs
    {
        Lr = (float)s.Lr,
        WeightDecay = (float)s.WeightDecay,
        Momentum = (float)s.Momentum,
        Dampening = (float)s.Dampening,
        FirstStep = s.FirstStep ? 1 : 0,
        Nesterov = s.Nesterov ? 1 : 0,
        Maximize = s.Maximize ? 1 : 0,
    });

    public void Adam(Tensor p, Tensor grad, Tensor m, Tensor v, Tensor? vmax, AdamStep s) => GpuOps.Adam(p, grad, m, v, vmax, new AdamArgs
    {
        Lr = (float)s.Lr,
        Beta1 = (float)s.Beta1,
        Beta2 = (float)s.Beta2,
        Eps = (float)s.Eps,
        WeightDecay = (float)s.WeightDecay,
        StepSize = (float)s.StepSize,
        Bc2Sqrt = (float)s.Bc2Sqrt,
        Decoupled = s.Decoupled ? 1 : 0,
        Maximize = s.Maximize ? 1 : 0,
    });

    public void RmsProp(Tensor p, Tensor grad, Tensor sq, Tensor? gradAvg, Tensor? buf, RmsPropStep s) => GpuOps.RmsProp(p, grad, sq, gradAvg, buf, new RmsPropArgs
    {
        Lr = (float)s.Lr,
        Alpha = (float)s.Alpha,
        Eps = (float)s.Eps,
        WeightDecay = (float)s.WeightDecay,
        Momentum = (float)s.Momentum,
        Maximize = s.Maximize ? 1 : 0,
    });

    public void Adagrad(Tensor p, Tensor grad, Tensor sum, AdagradStep s) => GpuOps.Adagrad(p, grad, sum, new AdagradArgs
    {
        Lr = (float)s.Lr,
        Eps = (float)s.Eps,
        WeightDecay = (float)s.WeightDecay,
        Maximize = s.Maximize ? 1 : 0,
    });
}
