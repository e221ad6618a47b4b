using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels.Rotary;

/// <summary>
/// Rotary position embedding in one pass over float32 rows: y = x·cos + rotate_half(x)·sin, the tables broadcast over
/// x's leading dims (read through zero strides, never expanded). Each product is rounded before the sum, as the
/// op-by-op formula rounds it, so results equal PyTorch's eager ones bit for bit.
/// </summary>
internal static unsafe class RopeKernel
{
    /// <summary>The rotated copy of <paramref name="x"/> [..., d] (shapes already checked by the rope rule).</summary>
    public static Tensor Forward(Tensor x, Tensor cos, Tensor sin)
    {
        var shape = x.ShapeArray;
        int d = shape[^1];
        using var xc = x.Contiguous();
        using var c = Table(cos, shape);
        using var s = Table(sin, shape);
        var y = Tensor.Empty((int[])shape.Clone(), DType.Float32);
        var job = new Job
        {
            X = xc.Ptr<float>(),
            Y = y.Ptr<float>(),
            Cos = c.Ptr<float>(),
            Sin = s.Ptr<float>(),
            CosStrides = c.StrideArray,
            SinStrides = s.StrideArray,
            Shape = shape,
            D = d,
        };
        long rows = d == 0 ? 0 : x.Numel / d;
        Threads.For(rows, Math.Max(1, 16384 / Math.Max(1, d)), job.Run);
        return y;
    }

    /// <summary>A table broadcast to x's shape as a view; copied only when its rows are not contiguous.</summary>
    static Tensor Table(Tensor t, int[] shape)
    {
        var view = t.Expand(shape);
        if (view.StrideArray[^1] == 1 || shape[^1] == 1) return view;
        var copy = view.Contiguous();
        view.Dispose();
        return copy;
    }

    sealed class Job
    {
        public float* X, Y, Cos, Sin;
        public long[] CosStrides = [], SinStrides = [];
        public int[] Shape = [];
        public int D;

        public void Run(long start, long end)
        {
            int lead = Shape.Length - 1, d = D;
            // The leading index of row `start`, then stepped row by row like an odometer.
            Span<int> index = stackalloc int[Math.Max(1, lead)];
            long rest = start, cosAt = 0, sinAt = 0;
            for (int k = lead - 1; k >= 0; k--)
            {
                index[k] = (int)(rest % Shape[k]);
                rest /= Shape[k];
                cosAt += index[k] * CosStrides[k];
                sinAt += index[k] * SinStrides[k];
            }
            for (long row = start; row < end; row++)
            {
                Row(X + row * d, Cos + cosAt, Sin + sinAt, Y + row * d, d / 2);
                for (int k = lead - 1; k >= 0; k--)
                {
                    cosAt += CosStrides[k];
                    sinAt += SinStrides[k];
                    if (++index[k] < Shape[k]) break;
                    cosAt -= index[k] * CosStrides[k];
                    sinAt -= index[k] * SinStrides[k];
                    index[k] = 0;
                }
            }
        }

        /// <summary>y1 = x1·c1 - x2·s1, y2 = x2·c2 + x1·s2 over the halves of one row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Row(float* x, float* c, float* s, float* y, int half)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= half; i += 8)
                {
                    Vector256<float> x1 = Vector256.Load(x + i), x2 = Vector256.Load(x + half + i);
                    (x1 * Vector256.Load(c + i) - x2 * Vector256.Load(s + i)).Store(y + i);
                    (x2 * Vector256.Load(c + half + i) + x1 * Vector256.Load(s + half + i)).Store(y + half + i);
                }
            for (; i < half; i++)
            {
                float x1 = x[i], x2 = x[half + i];
                y[i] = x1 * c[i] - x2 * s[i];
                y[half + i] = x2 * c[half + i] + x1 * s[half + i];
            }
        }
    }
}
