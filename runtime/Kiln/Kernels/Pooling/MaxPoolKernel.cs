using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kiln.Compiler.Shapes;

namespace Kiln.Kernels.Pooling;

/// <summary>
/// 2-D max pooling straight over the input planes: each window's maximum and where it came from (h·W + w in its
/// plane), the saved index the backward scatters through. Padding reads as -inf, so clipped windows only see the
/// input; a NaN wins its window and the first of equal maxima is kept (PyTorch's rules).
/// </summary>
internal static unsafe class MaxPoolKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<T>(T* x, T* y, long* indices, long planes, int h, int w, int oh, int ow, ConvGeometry g)
        where T : unmanaged, INumberBase<T>, IComparisonOperators<T, T, bool>
    {
        long outPlane = (long)oh * ow;
        if (typeof(T) == typeof(float) && Avx2.IsSupported && IsPlain2x2(g, h, w, oh, ow))
        {
            Threads.For(planes, Math.Max(1, 8192 / Math.Max(1, (long)h * w)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p0, p1) =>
            {
                for (long p = p0; p < p1; p++)
                    for (int i = 0; i < oh; i++)
                        Row2x2((float*)x + p * h * w, (float*)y + p * outPlane + (long)i * ow, indices + p * outPlane + (long)i * ow, i, w, ow);
            });
            return;
        }
        // Per column offset kj, the outputs whose window column j·sw + kj·dw - pw lies in [0, w); and per output, the
        // first column of its window inside the input. Both are the same for every row, so they are worked out once.
        var lo = new int[g.KW];
        var hi = new int[g.KW];
        for (int kj = 0; kj < g.KW; kj++)
        {
            int off = kj * g.DW - g.PW;
            lo[kj] = off >= 0 ? 0 : (-off + g.SW - 1) / g.SW;
            hi[kj] = Math.Min(ow, off >= w ? 0 : (w - 1 - off) / g.SW + 1);
        }
        var firstCol = new int[ow];
        for (int j = 0; j < ow; j++)
        {
            int c = j * g.SW - g.PW;
            while (c < 0) c += g.DW;
            firstCol[j] = c;
        }
        Threads.For(planes, Math.Max(1, 8192 / Math.Max(1, (long)h * w)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p0, p1) =>
        {
            for (long p = p0; p < p1; p++)
                for (int i = 0; i < oh; i++)
                    Row(x + p * h * w, y + p * outPlane + (long)i * ow, indices + p * outPlane + (long)i * ow, i, h, w, ow, g, lo, hi, firstCol);
        });
    }

    /// <summary>The common CNN pool: 2×2 windows, stride 2, no padding or dilation, every window inside the input.</summary>
    static bool IsPlain2x2(ConvGeometry g, int h, int w, int oh, int ow) =>
        g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 && g.DH == 1 && g.DW == 1
        && 2 * oh <= h && 2 * ow <= w && (long)h * w < int.MaxValue;

    /// <summary>
    /// One output row of a plain 2×2 pool, eight outputs at a time: the two input rows de-interleaved into even and odd
    /// columns, the four candidates taken in window order (top-left, top-right, bottom-left, bottom-right) with the
    /// same rule as <see cref="Row{T}"/> (greater, or NaN, takes), so ties keep the first and results equal it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row2x2(float* src, float* dst, long* at, int i, int w, int ow)
    {
        float* top = src + (long)2 * i * w, bottom = top + w;
        int rowBase = 2 * i * w, j = 0;
        var lane2 = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        var offW = Vector256.Create(w);
        var one = Vector256.Create(1);
        // A block reads 16 floats of each row: it stops while 2j + 16 <= w.
        for (; 2 * j + 16 <= w && j + 8 <= ow; j += 8)
        {
            var (t0, t1) = Split(Vector256.Load(top + 2 * j), Vector256.Load(top + 2 * j + 8));
            var (b0, b1) = Split(Vector256.Load(bottom + 2 * j), Vector256.Load(bottom + 2 * j + 8));
            var best = t0;
            var off = Vector256<int>.Zero;
            Take(ref best, ref off, t1, one);
            Take(ref best, ref off, b0, offW);
            Take(ref best, ref off, b1, offW + one);
            best.Store(dst + j);
            var index = off + lane2 + Vector256.Create(rowBase + 2 * j);
            Avx2.ConvertToVector256Int64(index.GetLower()).Store(at + j);
            Avx2.ConvertToVector256Int64(index.GetUpper()).Store(at + j + 4);
        }
        for (; j < ow; j++)
        {
            float* t = top + 2 * j, b = bottom + 2 * j;
            float m = t[0];
            int o = 0;
            if (t[1] > m || float.IsNaN(t[1])) { m = t[1]; o = 1; }
            if (b[0] > m || float.IsNaN(b[0])) { m = b[0]; o = w; }
            if (b[1] > m || float.IsNaN(b[1])) { m = b[1]; o = w + 1; }
            dst[j] = m;
            at[j] = rowBase + 2 * j + o;
        }
    }

    /// <summary>Even and odd lanes of sixteen consecutive floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float> Even, Vector256<float> Odd) Split(Vector256<float> a, Vector256<float> b) =>
        (Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle(),
         Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle());

    /// <summary>Lanes where <paramref name="v"/> is greater than the best so far, or NaN, take it and its offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Take(ref Vector256<float> best, ref Vector256<int> off, Vector256<float> v, Vector256<int> vOff)
    {
        var take = Avx.Or(Avx.Compare(v, best, FloatComparisonMode.OrderedGreaterThanSignaling), Avx.Compare(v, v, FloatComparisonMode.UnorderedNonSignaling));
        best = Avx.BlendVariable(best, v, take);
        off = Avx.BlendVariable(off.AsSingle(), vOff.AsSingle(), take).AsInt32();
    }

    /// <summary>
    /// One output row, window offset by window offset (row-major, so the first of equal maxima stays), each offset a
    /// branch-free pass over the outputs whose window holds it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row<T>(T* src, T* dst, long* at, int i, int h, int w, int ow, ConvGeometry g, int[] lo, int[] hi, int[] firstCol)
        where T : unmanaged, INumberBase<T>, IComparisonOperators<T, T, bool>
    {
        int h0 = i * g.SH - g.PH, firstRow = h0;
        while (firstRow < 0) firstRow += g.DH;
        // Start where PyTorch does: -inf at the window's first position inside the input.
        var start = T.CreateTruncating(double.NegativeInfinity);
        for (int j = 0; j < ow; j++)
        {
            dst[j] = start;
            at[j] = (long)firstRow * w + firstCol[j];
        }
        for (int ki = 0; ki < g.KH; ki++)
        {
            int ih = h0 + ki * g.DH;
            if ((uint)ih >= (uint)h) continue;
            T* row = src + (long)ih * w;
            long rowBase = (long)ih * w;
            for (int kj = 0; kj < g.KW; kj++)
            {
                int off = kj * g.DW - g.PW, j = lo[kj], end = hi[kj];
                if (typeof(T) == typeof(float) && Avx2.IsSupported && (g.SW == 1 || g.SW == 2))
                    j = Lanes((float*)row, (float*)dst, at, rowBase, off, j, end, w, g.SW);
                for (; j < end; j++)
                {
                    int iw = j * g.SW + off;
                    T v = row[iw], best = dst[j];
                    // A NaN takes the window (the last one seen, as PyTorch's `val > max || isnan(val)`).
                    bool take = v > best || T.IsNaN(v);
                    dst[j] = take ? v : best;
                    at[j] = take ? rowBase + iw : at[j];
                }
            }
        }
    }

    /// <summary>
    /// Eight outputs at a time for strides 1 and 2 (stride 2 de-interleaves two loads), the last block masked: loads
    /// never reach past the row, so the last plane's last row never reads past the tensor.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int Lanes(float* row, float* dst, long* at, long rowBase, int off, int lo, int hi, int w, int sw)
    {
        var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var step = Vector256.Create(8L * sw);
        var index0 = Vector256.Create(0L, sw, 2L * sw, 3L * sw) + Vector256.Create(rowBase + (long)lo * sw + off);
        var index1 = index0 + Vector256.Create(4L * sw);
        for (int j = lo; j < hi; j += 8)
        {
            // Output lanes still in the row, and input elements still in the row.
            var live = Vector256.LessThan(lane, Vector256.Create(hi - j)).AsSingle();
            int first = j * sw + off;
            Vector256<float> v;
            if (sw == 1) v = Avx.MaskLoad(row + first, live);
            else
            {
                var inRow = Vector256.Create(w - first);
                var a = Avx.MaskLoad(row + first, Vector256.LessThan(lane, inRow).AsSingle());
                var b = Avx.MaskLoad(row + first + 8, Vector256.LessThan(lane + Vector256.Create(8), inRow).AsSingle());
                v = Split(a, b).Even;
            }
            var best = Avx.MaskLoad(dst + j, live);
            var take = Avx.And(live, Avx.Or(Avx.Compare(v, best, FloatComparisonMode.OrderedGreaterThanSignaling),
                                            Avx.Compare(v, v, FloatComparisonMode.UnorderedNonSignaling)));
            Avx.MaskStore(dst + j, take, v);
            // Widen the 32-bit mask to two 64-bit masks for the index lanes.
            Avx.MaskStore((double*)(at + j), Avx2.ConvertToVector256Int64(take.AsInt32().GetLower()).AsDouble(), index0.AsDouble());
            Avx.MaskStore((double*)(at + j + 4), Avx2.ConvertToVector256Int64(take.AsInt32().GetUpper()).AsDouble(), index1.AsDouble());
            index0 += step;
            index1 += step;
        }
        return hi;
    }

    /// <summary>dx[plane, indices[o]] += dy[plane, o]: the adjoint of gathering the maxima.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<T>(T* dy, long* indices, T* dx, long planes, int inPlane, int outPlane) where T : unmanaged, INumberBase<T>
    {
        Threads.For(planes, Math.Max(1, 8192 / Math.Max(1, inPlane)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p0, p1) =>
        {
            for (long p = p0; p < p1; p++)
            {
                T* dst = dx + p * inPlane;
                new Span<T>(dst, inPlane).Clear();
                T* src = dy + p * outPlane;
                long* at = indices + p * outPlane;
                for (int o = 0; o < outPlane; o++) dst[at[o]] += src[o];
            }
        });
    }
}
