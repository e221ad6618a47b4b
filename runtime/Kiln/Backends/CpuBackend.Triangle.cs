using System;

namespace Kiln.Backends;

internal sealed unsafe partial class CpuBackend
{
    public Tensor Triangle(Tensor x, int diagonal, bool lower)
    {
        var r = Kernels.CopyKernel.Convert(x, x.DType);
        var shape = x.ShapeArray;
        int rows = shape[^2], cols = shape[^1], size = x.DType.SizeOf();
        long batch = rows * (long)cols == 0 ? 0 : r.Numel / (rows * (long)cols);
        byte* p = r.DataPointer;
        for (long b = 0; b < batch; b++)
            for (int i = 0; i < rows; i++)
            {
                // Zero columns j with j - i > diagonal (tril) or j - i < diagonal (triu).
                int from = lower ? Math.Max(0, i + diagonal + 1) : 0;
                int to = lower ? cols : Math.Clamp(i + diagonal, 0, cols);
                if (from < to)
                    new Span<byte>(p + ((b * rows + i) * cols + from) * size, (to - from) * size).Clear();
            }
        return r;
    }
}
