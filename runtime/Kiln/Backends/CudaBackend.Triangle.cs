namespace Kiln.Backends;

internal sealed partial class CudaBackend
{
    // A select against the [rows, cols] keep-mask (made on the host, broadcast over the batch).
    public Tensor Triangle(Tensor x, int diagonal, bool lower)
    {
        var shape = x.ShapeArray;
        int rows = shape[^2], cols = shape[^1];
        var keep = new bool[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) keep[i * cols + j] = lower ? j - i <= diagonal : j - i >= diagonal;
        using var grad = GradMode.Set(false);
        using var hostMask = Tensor.From(keep, rows, cols);
        using var mask = hostMask.To(x.Device);
        using var zero = Tensor.Zeros([], x.DType);
        return Tensor.Where(mask, x, zero);
    }
}
