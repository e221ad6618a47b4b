using System;

namespace Kiln.Kernels.Conv;

/// <summary>The zero-padded image copy the convolution kernels read, so no tap needs a bounds test.</summary>
internal static unsafe class Padded
{
    /// <summary>
    /// Copies a [c, h, w] image into the interior of <paramref name="dst"/>, laid out [c, h + 2·ph, w + 2·pw]; the border
    /// is not touched (callers allocate it zeroed once and reuse it for every image).
    /// </summary>
    public static void Fill(float* src, int c, int h, int w, int ph, int pw, float* dst)
    {
        int wp = w + 2 * pw;
        long planeP = (long)(h + 2 * ph) * wp;
        for (int ch = 0; ch < c; ch++)
            for (int r = 0; r < h; r++)
                new ReadOnlySpan<float>(src + ((long)ch * h + r) * w, w)
                    .CopyTo(new Span<float>(dst + ch * planeP + (long)(r + ph) * wp + pw, w));
    }

    /// <summary>The inverse of <see cref="Fill"/>: copies the interior of a padded [c, h + 2·ph, w + 2·pw] buffer out.</summary>
    public static void Extract(float* src, int c, int h, int w, int ph, int pw, float* dst)
    {
        int wp = w + 2 * pw;
        long planeP = (long)(h + 2 * ph) * wp;
        for (int ch = 0; ch < c; ch++)
            for (int r = 0; r < h; r++)
                new ReadOnlySpan<float>(src + ch * planeP + (long)(r + ph) * wp + pw, w)
                    .CopyTo(new Span<float>(dst + ((long)ch * h + r) * w, w));
    }
}
