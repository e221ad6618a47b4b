namespace Kiln.Kernels.Reduce;

/// <summary>The gradient of a float32 softmax or log-softmax over the last dim, row by row (<see cref="RowKernels.SoftmaxBackward"/>).</summary>
internal static unsafe class SoftmaxGradient
{
    /// <summary>dx from the output's gradient and the output itself (same shape, float32 on the CPU: the caller checked).</summary>
    public static Tensor Run(Tensor grad, Tensor output, bool log)
    {
        using var g = grad.Contiguous();
        using var y = output.Contiguous();
        var dx = Tensor.Empty((int[])output.ShapeArray.Clone(), DType.Float32);
        int len = output.ShapeArray[^1];
        long rows = len == 0 ? 0 : output.Numel / len;
        float* pg = g.Ptr<float>(), py = y.Ptr<float>(), pd = dx.Ptr<float>();
        Tensor.ForRows(rows, len, r => RowKernels.SoftmaxBackward(pg + r * len, py + r * len, pd + r * len, len, log));
        return dx;
    }
}
