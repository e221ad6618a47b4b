using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiln.Kernels.Spectral;

/// <summary>
/// How a block of rows of <typeparamref name="T"/> (each <c>stride</c> elements after the last) moves into a transform's
/// lanes and back: <see cref="FftRows"/> is written once over it for one row, four float64 rows or eight float32 rows.
/// </summary>
internal unsafe interface IFftRowBlock<TLane, T> where TLane : struct, IFftLane<TLane> where T : unmanaged
{
    /// <summary>How many rows one block holds.</summary>
    static abstract int Rows { get; }

    /// <summary>lanes[k] = (p[2k], p[2k + 1]) of each row, k &lt; count: interleaved complex values or a packed real row.</summary>
    static abstract void LoadPairs(T* p, long stride, int count, Span<TLane> lanes);

    /// <summary>lanes[k] = (p[k], 0) of each row, k &lt; count.</summary>
    static abstract void LoadReals(T* p, long stride, int count, Span<TLane> lanes);

    /// <summary>(p[2k], p[2k + 1]) of each row = scale · lanes[k], k &lt; count.</summary>
    static abstract void StorePairs(T* p, long stride, int count, double scale, ReadOnlySpan<TLane> lanes);
}

/// <summary>One row of float or double, transformed in float64.</summary>
internal unsafe struct OneRow<T> : IFftRowBlock<ComplexLane, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Rows => 1;

    public static void LoadPairs(T* p, long stride, int count, Span<ComplexLane> lanes)
    {
        for (int k = 0; k < count; k++) lanes[k] = new(new Complex(double.CreateTruncating(p[2 * k]), double.CreateTruncating(p[2 * k + 1])));
    }

    public static void LoadReals(T* p, long stride, int count, Span<ComplexLane> lanes)
    {
        for (int k = 0; k < count; k++) lanes[k] = new(new Complex(double.CreateTruncating(p[k]), 0));
    }

    public static void StorePairs(T* p, long stride, int count, double scale, ReadOnlySpan<ComplexLane> lanes)
    {
        for (int k = 0; k < count; k++)
        {
            p[2 * k] = T.CreateTruncating(lanes[k].Value.Real * scale);
            p[2 * k + 1] = T.CreateTruncating(lanes[k].Value.Imaginary * scale);
        }
    }
}

/// <summary>Four rows of float or double, transformed in float64 vector lanes (one row per lane).</summary>
internal unsafe struct FourRows<T> : IFftRowBlock<VectorLanes<double>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Rows => 4;

    public static void LoadPairs(T* p, long stride, int count, Span<VectorLanes<double>> lanes)
    {
        for (int k = 0; k < count; k++) lanes[k] = new(Column(p + 2 * k, stride), Column(p + 2 * k + 1, stride));
    }

    public static void LoadReals(T* p, long stride, int count, Span<VectorLanes<double>> lanes)
    {
        for (int k = 0; k < count; k++) lanes[k] = new(Column(p + k, stride), Vector256<double>.Zero);
    }

    public static void StorePairs(T* p, long stride, int count, double scale, ReadOnlySpan<VectorLanes<double>> lanes)
    {
        var s = Vector256.Create(scale);
        for (int k = 0; k < count; k++)
        {
            Scatter(p + 2 * k, stride, lanes[k].Re * s);
            Scatter(p + 2 * k + 1, stride, lanes[k].Im * s);
        }
    }

    static Vector256<double> Column(T* p, long stride) =>
        Vector256.Create(double.CreateTruncating(p[0]), double.CreateTruncating(p[stride]), double.CreateTruncating(p[2 * stride]), double.CreateTruncating(p[3 * stride]));

    static void Scatter(T* p, long stride, Vector256<double> v)
    {
        p[0] = T.CreateTruncating(v[0]); p[stride] = T.CreateTruncating(v[1]); p[2 * stride] = T.CreateTruncating(v[2]); p[3 * stride] = T.CreateTruncating(v[3]);
    }
}

/// <summary>
/// Eight float32 rows in float32 vector lanes: eight consecutive floats of each row are loaded whole and turned into
/// eight lanes by one 8×8 register transpose (and back on the way out); the last few values go one at a time.
/// </summary>
internal unsafe struct EightFloatRows : IFftRowBlock<VectorLanes<float>, float>
{
    public static int Rows => 8;

    /// <summary>The block needs AVX's shuffles; without them float32 rows take the float64 blocks.</summary>
    public static bool Supported => Avx.IsSupported;

    public static void LoadPairs(float* p, long stride, int count, Span<VectorLanes<float>> lanes)
    {
        int k = 0;
        for (; k + 4 <= count; k += 4)
        {
            Transpose(p + 2 * k, stride, out var v0, out var v1, out var v2, out var v3, out var v4, out var v5, out var v6, out var v7);
            lanes[k] = new(v0, v1);
            lanes[k + 1] = new(v2, v3);
            lanes[k + 2] = new(v4, v5);
            lanes[k + 3] = new(v6, v7);
        }
        for (; k < count; k++) lanes[k] = new(Column(p + 2 * k, stride), Column(p + 2 * k + 1, stride));
    }

    public static void LoadReals(float* p, long stride, int count, Span<VectorLanes<float>> lanes)
    {
        int k = 0;
        for (; k + 8 <= count; k += 8)
        {
            Transpose(p + k, stride, out var v0, out var v1, out var v2, out var v3, out var v4, out var v5, out var v6, out var v7);
            lanes[k] = new(v0, default);
            lanes[k + 1] = new(v1, default);
            lanes[k + 2] = new(v2, default);
            lanes[k + 3] = new(v3, default);
            lanes[k + 4] = new(v4, default);
            lanes[k + 5] = new(v5, default);
            lanes[k + 6] = new(v6, default);
            lanes[k + 7] = new(v7, default);
        }
        for (; k < count; k++) lanes[k] = new(Column(p + k, stride), default);
    }

    public static void StorePairs(float* p, long stride, int count, double scale, ReadOnlySpan<VectorLanes<float>> lanes)
    {
        var s = Vector256.Create((float)scale);
        int k = 0;
        for (; k + 4 <= count; k += 4)
        {
            Vector256<float> r0 = lanes[k].Re * s, r1 = lanes[k].Im * s, r2 = lanes[k + 1].Re * s, r3 = lanes[k + 1].Im * s,
                r4 = lanes[k + 2].Re * s, r5 = lanes[k + 2].Im * s, r6 = lanes[k + 3].Re * s, r7 = lanes[k + 3].Im * s;
            RegisterTranspose.Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
            float* o = p + 2 * k;
            r0.Store(o); r1.Store(o + stride); r2.Store(o + 2 * stride); r3.Store(o + 3 * stride);
            r4.Store(o + 4 * stride); r5.Store(o + 5 * stride); r6.Store(o + 6 * stride); r7.Store(o + 7 * stride);
        }
        for (; k < count; k++)
        {
            Scatter(p + 2 * k, stride, lanes[k].Re * s);
            Scatter(p + 2 * k + 1, stride, lanes[k].Im * s);
        }
    }

    /// <summary>Eight floats from each of eight rows, transposed: v<sub>e</sub> holds element e of every row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose(float* p, long stride, out Vector256<float> v0, out Vector256<float> v1, out Vector256<float> v2, out Vector256<float> v3,
        out Vector256<float> v4, out Vector256<float> v5, out Vector256<float> v6, out Vector256<float> v7)
    {
        v0 = Vector256.Load(p); v1 = Vector256.Load(p + stride); v2 = Vector256.Load(p + 2 * stride); v3 = Vector256.Load(p + 3 * stride);
        v4 = Vector256.Load(p + 4 * stride); v5 = Vector256.Load(p + 5 * stride); v6 = Vector256.Load(p + 6 * stride); v7 = Vector256.Load(p + 7 * stride);
        RegisterTranspose.Transpose8x8(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7);
    }

    static Vector256<float> Column(float* p, long stride) =>
        Vector256.Create(p[0], p[stride], p[2 * stride], p[3 * stride], p[4 * stride], p[5 * stride], p[6 * stride], p[7 * stride]);

    static void Scatter(float* p, long stride, Vector256<float> v)
    {
        for (int r = 0; r < 8; r++) p[r * stride] = v[r];
    }
}
