using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Compiler.Shapes;


namespace Kiln.Kernels.Conv;

/// <summary>
/// unfold (im2col) and fold (col2im) over contiguous tensors: the data movement that turns convolution
/// into GEMM. Fold is unfold's adjoint, so each is the other's backward.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>cols[n, (c,ki,kj), oh*OW+ow] = x[n, c, oh*s - p + ki*d, ow*s - p + kj*d] (0 outside).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unfold<T>(T* x, T* cols, int n, int c, int h, int w, ConvGeometry g, int oh, int ow) where T : unmanaged, INumberBase<T>
    {
        int kk = g.KH * g.KW;
        long rows = (long)n * c * kk, l = (long)oh * ow;
        Threads.For(rows, Math.Max(1, 16384 / Math.Max(1, l)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                long plane = r / kk;
                int k = (int)(r % kk), ki = k / g.KW, kj = k % g.KW;
                T* src = x + plane * h * w;
                T* dst = cols + r * l;
                for (int i = 0; i < oh; i++)
                {
                    int ih = i * g.SH - g.PH + ki * g.DH;
                    T* row = dst + (long)i * ow;
                    if ((uint)ih >= (uint)h) { new Span<T>(row, ow).Clear(); continue; }
                    T* srow = src + (long)ih * w;
                    int iw0 = -g.PW + kj * g.DW;
                    if (g.SW == 1)
                    {
                        // Valid columns form one contiguous run: copy it, zero the edges.
                        int lo = Math.Clamp(-iw0, 0, ow), hi = Math.Clamp(w - iw0, lo, ow);
                        new Span<T>(row, lo).Clear();
                        new ReadOnlySpan<T>(srow + iw0 + lo, hi - lo).CopyTo(new Span<T>(row + lo, hi - lo));
                        new Span<T>(row + hi, ow - hi).Clear();
                    }
                    else
                        for (int j = 0; j < ow; j++)
                        {
                            int iw = iw0 + j * g.SW;
                            row[j] = (uint)iw < (uint)w ? srow[iw] : T.Zero;
                        }
                }
            }
        });
    }

    /// <summary>dst[j] += src[j] for a contiguous run, eight lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddRun<T>(T* dst, T* src, int n) where T : unmanaged, INumberBase<T>
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (int w = Vector256<T>.Count; j <= n - w; j += w)
                (Vector256.Load(dst + j) + Vector256.Load(src + j)).Store(dst + j);
        for (; j < n; j++) dst[j] += src[j];
    }

    /// <summary>The adjoint of <see cref="Unfold{T}"/>: sums every column entry back into its input position.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fold<T>(T* cols, T* x, int n, int c, int h, int w, ConvGeometry g, int oh, int ow) where T : unmanaged, INumberBase<T>
    {
        int kk = g.KH * g.KW;
        long planes = (long)n * c, l = (long)oh * ow;
        // One (n, c) plane per task: all of its kernel offsets write only that plane, so no races.
        Threads.For(planes, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p0, p1) =>
        {
            for (long p = p0; p < p1; p++)
            {
                T* dst = x + p * h * w;
                new Span<T>(dst, h * w).Clear();
                for (int k = 0; k < kk; k++)
                {
                    int ki = k / g.KW, kj = k % g.KW;
                    T* src = cols + (p * kk + k) * l;
                    for (int i = 0; i < oh; i++)
                    {
                        int ih = i * g.SH - g.PH + ki * g.DH;
                        if ((uint)ih >= (uint)h) continue;
                        T* drow = dst + (long)ih * w;
                        T* srow = src + (long)i * ow;
                        int iw0 = -g.PW + kj * g.DW;
                        if (g.SW == 1)
                        {
                            int lo = Math.Clamp(-iw0, 0, ow), hi = Math.Clamp(w - iw0, lo, ow);
                            AddRun(drow + iw0 + lo, srow + lo, hi - lo);
                        }
                        else
                            for (int j = 0; j < ow; j++)
                            {
                                int iw = iw0 + j * g.SW;
                                if ((uint)iw < (uint)w) drow[iw] += srow[j];
                            }
                    }
                }
            }
        });
    }
}
