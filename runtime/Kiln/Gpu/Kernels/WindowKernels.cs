using ILGPU;

namespace Kiln.Gpu.Kernels;

/// <summary>A 2-D sliding window over [N, C, H, W] planes: the input and output sizes and the kernel geometry.</summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public struct Window2d
{
#pragma warning disable CS1591
    public int C, H, W, OH, OW, KH, KW, DH, DW, PH, PW, SH, SW;
#pragma warning restore CS1591
}

/// <summary>
/// Window kernels of the CUDA backend: max pooling (value and flat position in the plane), and the column transforms that
/// make a convolution a GEMM — <see cref="Im2Col"/> forward, <see cref="Col2Im"/> (atomic adds) for the input gradient.
/// float32, one thread per output (or column) element.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class WindowKernels
{
    /// <summary>y, indices [N·C, OH, OW] = max over each window of x [N·C, H, W] (padding never wins; NaN does).</summary>
    [GpuKernel]
    public static void MaxPool(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<long> indices, Window2d w)
    {
        int per = w.OH * w.OW;
        long plane = i / per;
        int at = (int)(i - plane * per), oy = at / w.OW, ox = at - oy * w.OW;
        long xBase = plane * w.H * w.W;
        float best = float.NegativeInfinity;
        long bestAt = -1;
        for (int ky = 0; ky < w.KH; ky++)
        {
            int iy = oy * w.SH - w.PH + ky * w.DH;
            if (iy < 0 || iy >= w.H) continue;
            for (int kx = 0; kx < w.KW; kx++)
            {
                int ix = ox * w.SW - w.PW + kx * w.DW;
                if (ix < 0 || ix >= w.W) continue;
                float v = x[xBase + iy * w.W + ix];
                if (bestAt < 0 || v > best || float.IsNaN(v) && !float.IsNaN(best)) { best = v; bestAt = iy * w.W + ix; }
            }
        }
        y[i] = best;
        indices[i] = bestAt;
    }

    /// <summary>cols [N, C·KH·KW, OH·OW] = the input under each window position (zero where the window leaves the input).</summary>
    [GpuKernel]
    public static void Im2Col(Index1D i, ArrayView<float> x, ArrayView<float> cols, Window2d w)
    {
        Locate(i, w, out long n, out int c, out int iy, out int ix);
        cols[i] = iy >= 0 && iy < w.H && ix >= 0 && ix < w.W ? x[((n * w.C + c) * w.H + iy) * w.W + ix] : 0f;
    }

    /// <summary>dx [N, C, H, W] += each column element at the input position it was read from (overlapping windows add up).</summary>
    [GpuKernel]
    public static void Col2Im(Index1D i, ArrayView<float> cols, ArrayView<float> dx, Window2d w)
    {
        Locate(i, w, out long n, out int c, out int iy, out int ix);
        if (iy >= 0 && iy < w.H && ix >= 0 && ix < w.W) Atomic.Add(ref dx[((n * w.C + c) * w.H + iy) * w.W + ix], cols[i]);
    }

    /// <summary>The batch, channel and input position of column element <paramref name="i"/>.</summary>
    static void Locate(long i, Window2d w, out long n, out int c, out int iy, out int ix)
    {
        int positions = w.OH * w.OW, taps = w.KH * w.KW;
        long rows = (long)w.C * taps;
        n = i / (rows * positions);
        long rest = i - n * rows * positions;
        int row = (int)(rest / positions), p = (int)(rest - (long)row * positions);
        c = row / taps;
        int k = row - c * taps, ky = k / w.KW, kx = k - ky * w.KW, oy = p / w.OW, ox = p - oy * w.OW;
        iy = oy * w.SH - w.PH + ky * w.DH;
        ix = ox * w.SW - w.PW + kx * w.DW;
    }
}
