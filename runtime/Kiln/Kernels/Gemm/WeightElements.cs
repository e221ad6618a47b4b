using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels.Gemm;

/// <summary>
/// How a weight-streaming kernel reads its weight's elements, so one loop serves every storage type: float32 as
/// stored, or bfloat16 widened to float32 in registers (half the bytes read; never a converted copy of the weight).
/// </summary>
internal interface IWeightElements
{
    /// <summary>Bytes per element.</summary>
    static abstract int Size { get; }

    /// <summary>Lanes of elements p.. of a weight row, as float32.</summary>
    static abstract unsafe TL Load<TL>(byte* row, long p) where TL : struct, IFloatLanes<TL>;

    /// <summary>Element p of a weight row, as float32.</summary>
    static abstract unsafe float At(byte* row, long p);
}

/// <summary>float32 weights.</summary>
internal readonly struct Float32Elements : IWeightElements
{
    public static int Size => sizeof(float);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe TL Load<TL>(byte* row, long p) where TL : struct, IFloatLanes<TL> => TL.Load((float*)row + p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float At(byte* row, long p) => ((float*)row)[p];
}

/// <summary>bfloat16 weights: each value is the high 16 bits of a float32.</summary>
internal readonly struct BFloat16Elements : IWeightElements
{
    public static int Size => sizeof(ushort);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe TL Load<TL>(byte* row, long p) where TL : struct, IFloatLanes<TL> => TL.LoadBf16((ushort*)row + p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float At(byte* row, long p) => BitConverter.Int32BitsToSingle(((ushort*)row)[p] << 16);
}

/// <summary>Vector loops over one weight row of either storage type: the dot products and scaled sums that read it as float32.</summary>
internal static unsafe class WeightRows
{
    /// <summary>Σ x[p]·w[p] over p &lt; <paramref name="k"/>.</summary>
    // Sixteen lanes where the CPU has AVX-512: one weight row streamed from memory ran 3–6 % faster than with eight
    // (batch-1 decode products, 200–400 MB of weights, alternating probes; software prefetch made it slower).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot<TW>(float* x, byte* w, int k) where TW : struct, IWeightElements =>
        Vector512.IsHardwareAccelerated && k >= 64 ? Dot<TW, Lanes512>(x, w, k) : Dot<TW, Lanes256>(x, w, k);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Dot<TW, TL>(float* x, byte* w, int k) where TW : struct, IWeightElements where TL : struct, IFloatLanes<TL>
    {
        int p = 0, n = TL.Count;
        TL s0 = default, s1 = default, s2 = default, s3 = default;
        for (; p + 4 * n <= k; p += 4 * n)
        {
            s0 = TL.Fma(TL.Load(x + p), TW.Load<TL>(w, p), s0);
            s1 = TL.Fma(TL.Load(x + p + n), TW.Load<TL>(w, p + n), s1);
            s2 = TL.Fma(TL.Load(x + p + 2 * n), TW.Load<TL>(w, p + 2 * n), s2);
            s3 = TL.Fma(TL.Load(x + p + 3 * n), TW.Load<TL>(w, p + 3 * n), s3);
        }
        for (; p + n <= k; p += n) s0 = TL.Fma(TL.Load(x + p), TW.Load<TL>(w, p), s0);
        float sum = TL.ReduceSum(TL.Add(TL.Add(s0, s1), TL.Add(s2, s3)));
        for (; p < k; p++) sum += x[p] * TW.At(w, p);
        return sum;
    }

    /// <summary>o[p] += s·w[p] over p &lt; <paramref name="k"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd<TW>(byte* w, float s, float* o, int k) where TW : struct, IWeightElements
    {
        int p = 0;
        var sv = Lanes256.Splat(s);
        for (; p + 8 <= k; p += 8) Lanes256.Store(Lanes256.Fma(TW.Load<Lanes256>(w, p), sv, Lanes256.Load(o + p)), o + p);
        for (; p < k; p++) o[p] += s * TW.At(w, p);
    }

    /// <summary>x·w0 .. x·w3 over p &lt; <paramref name="k"/>: x read once for four rows, the four sums folded together.</summary>
    public static Vector128<float> Dot4<TW>(float* x, byte* w0, byte* w1, byte* w2, byte* w3, int k) where TW : struct, IWeightElements =>
        Vector512.IsHardwareAccelerated && k >= 64 ? Dot4<TW, Lanes512>(x, w0, w1, w2, w3, k) : Dot4<TW, Lanes256>(x, w0, w1, w2, w3, k);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static Vector128<float> Dot4<TW, TL>(float* x, byte* w0, byte* w1, byte* w2, byte* w3, int k) where TW : struct, IWeightElements where TL : struct, IFloatLanes<TL>
    {
        int p = 0, n = TL.Count;
        TL s0 = default, s1 = default, s2 = default, s3 = default;
        for (; p + n <= k; p += n)
        {
            var xv = TL.Load(x + p);
            s0 = TL.Fma(xv, TW.Load<TL>(w0, p), s0);
            s1 = TL.Fma(xv, TW.Load<TL>(w1, p), s1);
            s2 = TL.Fma(xv, TW.Load<TL>(w2, p), s2);
            s3 = TL.Fma(xv, TW.Load<TL>(w3, p), s3);
        }
        var sums = TL.ReduceSum4(s0, s1, s2, s3);
        if (p == k) return sums;
        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (; p < k; p++)
        {
            t0 += x[p] * TW.At(w0, p); t1 += x[p] * TW.At(w1, p); t2 += x[p] * TW.At(w2, p); t3 += x[p] * TW.At(w3, p);
        }
        return sums + Vector128.Create(t0, t1, t2, t3);
    }

    /// <summary>
    /// <see cref="Dot4{TW}"/> for two rows x0 and x1 at once: each weight vector is loaded and widened once for both
    /// (x0's four sums in the first result, x1's in the second).
    /// </summary>
    public static (Vector128<float>, Vector128<float>) Dot4x2<TW>(float* x0, float* x1, byte* w0, byte* w1, byte* w2, byte* w3, int k) where TW : struct, IWeightElements =>
        Vector512.IsHardwareAccelerated && k >= 64 ? Dot4x2<TW, Lanes512>(x0, x1, w0, w1, w2, w3, k) : Dot4x2<TW, Lanes256>(x0, x1, w0, w1, w2, w3, k);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static (Vector128<float>, Vector128<float>) Dot4x2<TW, TL>(float* x0, float* x1, byte* w0, byte* w1, byte* w2, byte* w3, int k) where TW : struct, IWeightElements where TL : struct, IFloatLanes<TL>
    {
        int p = 0, n = TL.Count;
        TL s0 = default, s1 = default, s2 = default, s3 = default, t0 = default, t1 = default, t2 = default, t3 = default;
        for (; p + n <= k; p += n)
        {
            var a = TL.Load(x0 + p);
            var b = TL.Load(x1 + p);
            var v = TW.Load<TL>(w0, p);
            s0 = TL.Fma(a, v, s0); t0 = TL.Fma(b, v, t0);
            v = TW.Load<TL>(w1, p);
            s1 = TL.Fma(a, v, s1); t1 = TL.Fma(b, v, t1);
            v = TW.Load<TL>(w2, p);
            s2 = TL.Fma(a, v, s2); t2 = TL.Fma(b, v, t2);
            v = TW.Load<TL>(w3, p);
            s3 = TL.Fma(a, v, s3); t3 = TL.Fma(b, v, t3);
        }
        var first = TL.ReduceSum4(s0, s1, s2, s3);
        var second = TL.ReduceSum4(t0, t1, t2, t3);
        for (; p < k; p++)
        {
            var w = Vector128.Create(TW.At(w0, p), TW.At(w1, p), TW.At(w2, p), TW.At(w3, p));
            first += w * x0[p];
            second += w * x1[p];
        }
        return (first, second);
    }

    /// <summary>o[p] += s[0]·w0[p] + s[1]·w1[p] + s[2]·w2[p] + s[3]·w3[p] over p &lt; <paramref name="k"/>: o loaded and stored once for four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd4<TW>(byte* w0, byte* w1, byte* w2, byte* w3, Vector128<float> s, float* o, int k) where TW : struct, IWeightElements
    {
        int p = 0;
        Lanes256 c0 = Lanes256.Splat(s.GetElement(0)), c1 = Lanes256.Splat(s.GetElement(1)), c2 = Lanes256.Splat(s.GetElement(2)), c3 = Lanes256.Splat(s.GetElement(3));
        for (; p + 8 <= k; p += 8)
        {
            var a = Lanes256.Fma(TW.Load<Lanes256>(w0, p), c0, Lanes256.Load(o + p));
            var b = Lanes256.Mul(TW.Load<Lanes256>(w1, p), c1);
            a = Lanes256.Fma(TW.Load<Lanes256>(w2, p), c2, a);
            b = Lanes256.Fma(TW.Load<Lanes256>(w3, p), c3, b);
            Lanes256.Store(Lanes256.Add(a, b), o + p);
        }
        for (; p < k; p++) o[p] += s.GetElement(0) * TW.At(w0, p) + s.GetElement(1) * TW.At(w1, p) + s.GetElement(2) * TW.At(w2, p) + s.GetElement(3) * TW.At(w3, p);
    }
}
