using Kiln.Kernels.Elementwise;

namespace Kiln.Backends;

/// <summary>
/// What a device does for the tensor core: the kernels behind an op once its shapes, dtypes and output are settled. The
/// CPU and CUDA implement it; a <see cref="Tensor"/> reaches its own through <see cref="Tensor.Backend"/>, so an op is
/// written once over this interface instead of branching on the device; autograd recording wraps the op around it.
/// Row kernels work on contiguous [rows, length] data in the compute type (<see cref="Kernels.TypeDispatch.ComputeType"/>).
/// </summary>
internal interface IBackend
{
    /// <summary>y = op(x), x broadcast to y's shape; y in the compute type of its dtype.</summary>
    void Unary<TOp>(Tensor y, Tensor x, TOp op) where TOp : struct, IUnaryOp;

    /// <summary>y = op(a, b), both broadcast to y's shape.</summary>
    void Binary<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryOp;

    /// <summary>y (bool) = op(a, b), both broadcast to y's shape.</summary>
    void Compare<TOp>(Tensor y, Tensor a, Tensor b, TOp op) where TOp : struct, ICompareOp;

    /// <summary>y = cond ? a : b, all broadcast to y's shape (y, a and b of one dtype).</summary>
    void Where(Tensor y, Tensor cond, Tensor a, Tensor b);

    /// <summary>y[r] = the sum of row r of x.</summary>
    void RowSum(Tensor x, Tensor y, long rows, long length);

    /// <summary>y[r] = the product of row r of x.</summary>
    void RowProd(Tensor x, Tensor y, long rows, long length);

    /// <summary>The largest (or smallest) value of each row and its first index (NaN wins, as PyTorch).</summary>
    void RowExtreme(Tensor x, Tensor values, Tensor indices, long rows, long length, bool max);

    /// <summary>y = softmax (or log-softmax) of each row of x·scale.</summary>
    void RowSoftmax(Tensor x, Tensor y, long rows, int length, bool log, float scale);

    /// <summary>Each row of x replaced by its running sum, in place.</summary>
    void RowCumSum(Tensor x, long rows, long length);

    /// <summary>2-D max pool of contiguous [N, C, H, W] <paramref name="x"/> into y and the int64 positions (h·W + w) of the maxima.</summary>
    void MaxPool2d(Tensor x, Tensor y, Tensor indices, Kiln.Compiler.Shapes.ConvGeometry g);

    /// <summary>The input gradient of a max pool: each (contiguous) output gradient added at its saved position.</summary>
    Tensor MaxPool2dBackward(Tensor grad, Tensor indices, int[] inputShape);

    /// <summary>One fused SGD update of contiguous p (momentum buffer <paramref name="buf"/> when momentum is on).</summary>
    void Sgd(Tensor p, Tensor grad, Tensor? buf, SgdStep step);

    /// <summary>One fused Adam/AdamW update (<paramref name="vmax"/> for AMSGrad).</summary>
    void Adam(Tensor p, Tensor grad, Tensor m, Tensor v, Tensor? vmax, AdamStep step);

    /// <summary>One fused RMSprop update.</summary>
    void RmsProp(Tensor p, Tensor grad, Tensor sq, Tensor? gradAvg, Tensor? buf, RmsPropStep step);

    /// <summary>One fused Adagrad update.</summary>
    void Adagrad(Tensor p, Tensor grad, Tensor sum, AdagradStep step);
}
