using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels.Rotary;

/// <summary>
/// Rotary position embedding in one pass over float32 or bfloat16 rows: y = x·cos + rotate_half(x)·sin, the tables
/// broadcast over x's leading dims (read through zero strides, never expanded). Each product is rounded before the sum
/// (to bfloat16 too, for bf16), as the op-by-op formula rounds it, so results equal PyTorch's eager ones bit for bit.
/// </summary>
internal static unsafe class RopeKernel
{
    /// <summary>Whether the fused pass computes these operands (all float32, or all bfloat16, on the CPU).</summary>
    public static bool Handles(Tensor x, Tensor cos, Tensor sin) =>
        !x.IsCuda && (x.DType is DType.Float32 or DType.BFloat16) && cos.DType == x.DType && sin.DType == x.DType;

    /// <summary>The rotated copy of <paramref name="x"/> [..., d] (shapes already checked by the rope rule).</summary>
    public static Tensor Forward(Tensor x, Tensor cos, Tensor sin)
    {
        var shape = x.ShapeArray;
        int d = shape[^1];
        using var xc = x.Contiguous();
        using var c = Table(cos, shape);
        using var s = Table(sin, shape);
        var y = Tensor.Empty((int[])shape.Clone(), x.DType);
        var job = new Job
        {
            Bf16 = x.DType == DType.BFloat16,
            X = xc.Ptr<byte>(),
            Y = y.Ptr<byte>(),
            Cos = c.Ptr<byte>(),
            Sin = s.Ptr<byte>(),
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
        public bool Bf16;
        public byte* X, Y, Cos, Sin;
        public long[] CosStrides = [], SinStrides = [];
        public int[] Shape = [];
        public int D;

        public void Run(long start, long end)
        {
            int lead = Shape.Length - 1, d = D, size = Bf16 ? sizeof(ushort) : sizeof(float);
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
                long at = row * d * size;
                if (Bf16) RowBf16((ushort*)(X + at), (ushort*)(Cos + cosAt * size), (ushort*)(Sin + sinAt * size), (ushort*)(Y + at), d / 2);
                else Row((float*)(X + at), (float*)(Cos + cosAt * size), (float*)(Sin + sinAt * size), (float*)(Y + at), d / 2);
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

        /// <summary>The bfloat16 row: each product and the sum rounded to bfloat16, as the op-by-op formula's ops round.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void RowBf16(ushort* x, ushort* c, ushort* s, ushort* y, int half)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; i + 16 <= half; i += 16)
                {
                    var (x1a, x1b) = Bf16Vectors.Load(x + i);
                    var (x2a, x2b) = Bf16Vectors.Load(x + half + i);
                    var (c1a, c1b) = Bf16Vectors.Load(c + i);
                    var (s1a, s1b) = Bf16Vectors.Load(s + i);
                    var (c2a, c2b) = Bf16Vectors.Load(c + half + i);
                    var (s2a, s2b) = Bf16Vectors.Load(s + half + i);
                    Bf16Vectors.Store(Bf16Vectors.Round(x1a * c1a) - Bf16Vectors.Round(x2a * s1a), Bf16Vectors.Round(x1b * c1b) - Bf16Vectors.Round(x2b * s1b), y + i);
                    Bf16Vectors.Store(Bf16Vectors.Round(x2a * c2a) + Bf16Vectors.Round(x1a * s2a), Bf16Vectors.Round(x2b * c2b) + Bf16Vectors.Round(x1b * s2b), y + half + i);
                }
            for (; i < half; i++)
            {
                float x1 = F(x[i]), x2 = F(x[half + i]);
                y[i] = B(R(x1 * F(c[i])) - R(x2 * F(s[i])));
                y[half + i] = B(R(x2 * F(c[half + i])) + R(x1 * F(s[half + i])));
            }
        }

        static float F(ushort bits) => new BFloat16(bits).ToSingle();
        static ushort B(float v) => BFloat16.FromSingle(v).Bits;
        static float R(float v) => BFloat16.FromSingle(v).ToSingle();

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
