using System;
using System.Numerics;

namespace Kiln.Kernels.Sampling;

/// <summary>The sizes and settings of one <c>roi_align</c> call.</summary>
internal readonly record struct RoiAlignShape(int N, int C, int H, int W, int Rois, int PooledH, int PooledW, double SpatialScale, int SamplingRatio, bool Aligned);

/// <summary>
/// <c>roi_align</c> on the host with torchvision's rules: each region (batch index, x1, y1, x2, y2) scaled to the feature
/// map (shifted by half a pixel when aligned; at least 1 × 1 otherwise) is cut into PooledH × PooledW bins, each the mean
/// of a grid of bilinear samples (sampling_ratio per side, or ceil(bin size) when it is not positive). A sample more than
/// a pixel outside the map reads zero; one just outside reads the edge. The backward adds each output gradient into the
/// four pixels of each sample with its weight over the count.
/// </summary>
/// <remarks>input [N, C, H, W] and output [K, C, PooledH, PooledW] contiguous; rois [K, 5] as doubles.</remarks>
internal static unsafe class RoiAlignKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Fills <paramref name="output"/>.</summary>
    public static void Forward(T* input, double[] rois, T* output, RoiAlignShape s)
    {
        T* src = input, dst = output;
        Threads.For((long)s.Rois * s.C, 1, (r0, r1) =>
        {
            for (long rc = r0; rc < r1; rc++)
            {
                int k = (int)(rc / s.C), c = (int)(rc % s.C);
                var roi = new Region(rois, k, s);
                T* plane = src + ((long)roi.Batch * s.C + c) * s.H * s.W;
                T* o = dst + rc * s.PooledH * s.PooledW;
                for (int ph = 0; ph < s.PooledH; ph++)
                    for (int pw = 0; pw < s.PooledW; pw++)
                    {
                        double sum = 0;
                        for (int iy = 0; iy < roi.GridH; iy++)
                            for (int ix = 0; ix < roi.GridW; ix++)
                            {
                                var b = new Bilinear(roi.Y(ph, iy), roi.X(pw, ix), s.H, s.W);
                                if (b.Empty) continue;
                                sum += b.W1 * double.CreateChecked(plane[b.Low * s.W + b.Left]) + b.W2 * double.CreateChecked(plane[b.Low * s.W + b.Right])
                                     + b.W3 * double.CreateChecked(plane[b.High * s.W + b.Left]) + b.W4 * double.CreateChecked(plane[b.High * s.W + b.Right]);
                            }
                        o[ph * s.PooledW + pw] = T.CreateChecked(sum / roi.Count);
                    }
            }
        });
    }

    /// <summary>Adds the input's gradient into <paramref name="gradInput"/> (zeroed).</summary>
    public static void Backward(T* gradOutput, double[] rois, T* gradInput, RoiAlignShape s)
    {
        // Regions of one image write the same pixels: images are the shares.
        T* go = gradOutput, gi = gradInput;
        Threads.For(s.N, 1, (n0, n1) =>
        {
            for (int k = 0; k < s.Rois; k++)
            {
                var roi = new Region(rois, k, s);
                if (roi.Batch < n0 || roi.Batch >= n1) continue;
                for (int c = 0; c < s.C; c++)
                {
                    T* plane = gi + ((long)roi.Batch * s.C + c) * s.H * s.W;
                    T* g = go + ((long)k * s.C + c) * s.PooledH * s.PooledW;
                    for (int ph = 0; ph < s.PooledH; ph++)
                        for (int pw = 0; pw < s.PooledW; pw++)
                        {
                            double up = double.CreateChecked(g[ph * s.PooledW + pw]) / roi.Count;
                            for (int iy = 0; iy < roi.GridH; iy++)
                                for (int ix = 0; ix < roi.GridW; ix++)
                                {
                                    var b = new Bilinear(roi.Y(ph, iy), roi.X(pw, ix), s.H, s.W);
                                    if (b.Empty) continue;
                                    plane[b.Low * s.W + b.Left] += T.CreateChecked(up * b.W1);
                                    plane[b.Low * s.W + b.Right] += T.CreateChecked(up * b.W2);
                                    plane[b.High * s.W + b.Left] += T.CreateChecked(up * b.W3);
                                    plane[b.High * s.W + b.Right] += T.CreateChecked(up * b.W4);
                                }
                        }
                }
            }
        });
    }

    /// <summary>One region in feature-map coordinates: its start, bin sizes and sampling grid.</summary>
    readonly struct Region
    {
        public readonly int Batch;
        readonly double _startY, _startX, _binH, _binW;
        public readonly int GridH, GridW;
        public readonly double Count;

        public Region(double[] rois, int k, RoiAlignShape s)
        {
            Batch = (int)rois[k * 5];
            double offset = s.Aligned ? 0.5 : 0;
            _startX = rois[k * 5 + 1] * s.SpatialScale - offset;
            _startY = rois[k * 5 + 2] * s.SpatialScale - offset;
            double width = rois[k * 5 + 3] * s.SpatialScale - offset - _startX, height = rois[k * 5 + 4] * s.SpatialScale - offset - _startY;
            if (!s.Aligned) { width = Math.Max(width, 1); height = Math.Max(height, 1); }
            _binH = height / s.PooledH;
            _binW = width / s.PooledW;
            GridH = s.SamplingRatio > 0 ? s.SamplingRatio : (int)Math.Ceiling(height / s.PooledH);
            GridW = s.SamplingRatio > 0 ? s.SamplingRatio : (int)Math.Ceiling(width / s.PooledW);
            Count = Math.Max(GridH * GridW, 1);
        }

        /// <summary>The row of sample <paramref name="iy"/> of bin row <paramref name="ph"/>.</summary>
        public double Y(int ph, int iy) => _startY + ph * _binH + (iy + 0.5) * _binH / GridH;

        /// <summary>The column of sample <paramref name="ix"/> of bin column <paramref name="pw"/>.</summary>
        public double X(int pw, int ix) => _startX + pw * _binW + (ix + 0.5) * _binW / GridW;
    }

    /// <summary>A sample's four pixels and weights (torchvision's bilinear_interpolate).</summary>
    readonly struct Bilinear
    {
        public readonly bool Empty;
        public readonly long Low, High, Left, Right;
        public readonly double W1, W2, W3, W4;

        public Bilinear(double y, double x, int h, int w)
        {
            Empty = y < -1 || y > h || x < -1 || x > w;
            if (Empty) { Low = High = Left = Right = 0; W1 = W2 = W3 = W4 = 0; return; }
            y = Math.Max(y, 0);
            x = Math.Max(x, 0);
            Low = (long)y;
            Left = (long)x;
            if (Low >= h - 1) { Low = High = h - 1; y = Low; } else High = Low + 1;
            if (Left >= w - 1) { Left = Right = w - 1; x = Left; } else Right = Left + 1;
            double ly = y - Low, lx = x - Left, hy = 1 - ly, hx = 1 - lx;
            W1 = hy * hx; W2 = hy * lx; W3 = ly * hx; W4 = ly * lx;
        }
    }
}
