using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiln.Kernels.Elementwise;

namespace Kiln.Kernels.Attention;

/// <summary>
/// The row loops of the streaming attention kernels between their GEMMs: float rows in vector lanes (512-bit where the
/// CPU has them) with a scalar tail, other element types one by one. Element by element in generic math they took more
/// time than the GEMMs around them (8 × 8 heads of 128 × 32, causal, forward: the row max alone was a third of the call).
/// </summary>
internal static unsafe class AttentionRows
{
    /// <summary>The largest of row[0..n) (-∞ for an empty or all -∞ row; a NaN reaches the output through exp either way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Max<T>(T* row, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return (T)(object)(Vector512.IsHardwareAccelerated ? Max<Lanes512>((float*)row, n) : Max<Lanes256>((float*)row, n));
        T m = T.NegativeInfinity;
        for (int j = 0; j < n; j++) m = T.Max(m, row[j]);
        return m;
    }

    /// <summary>row[j] = exp(row[j] - shift) (0 for -∞), returning the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T ExpShifted<T>(T* row, int n, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            float s = (float)(object)shift;
            return (T)(object)(Vector512.IsHardwareAccelerated ? ExpShifted<Lanes512>((float*)row, n, s) : ExpShifted<Lanes256>((float*)row, n, s));
        }
        T sum = T.Zero;
        for (int j = 0; j < n; j++)
        {
            T e = T.IsNegativeInfinity(row[j]) ? T.Zero : T.Exp(row[j] - shift);
            row[j] = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>row[j] += add[j] (an additive mask's row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add<T>(T* row, T* add, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            if (Vector512.IsHardwareAccelerated) Add<Lanes512>((float*)row, (float*)add, n);
            else Add<Lanes256>((float*)row, (float*)add, n);
            return;
        }
        for (int j = 0; j < n; j++) row[j] += add[j];
    }

    /// <summary>row[j] *= s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale<T>(T* row, int n, T s) where T : unmanaged, IFloatingPointIeee754<T> => Scale(row, row, n, s);

    /// <summary>to[j] = from[j]·s (from may be to).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale<T>(T* from, T* to, int n, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            if (Vector512.IsHardwareAccelerated) Scale<Lanes512>((float*)from, (float*)to, n, (float)(object)s);
            else Scale<Lanes256>((float*)from, (float*)to, n, (float)(object)s);
            return;
        }
        for (int j = 0; j < n; j++) to[j] = from[j] * s;
    }

    /// <summary>Σ a[j]·b[j] (a row of dO against its output row: softmax's backward term).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Dot<T>(T* a, T* b, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return (T)(object)(Vector512.IsHardwareAccelerated ? Dot<Lanes512>((float*)a, (float*)b, n) : Dot<Lanes256>((float*)a, (float*)b, n));
        T acc = T.Zero;
        for (int j = 0; j < n; j++) acc += a[j] * b[j];
        return acc;
    }

    /// <summary>d[j] = p[j]·(d[j] - c): softmax's backward for one row (dS from dP, P and the row's Σ dO·O).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SoftmaxGrad<T>(T* p, T* d, int n, T c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            if (Vector512.IsHardwareAccelerated) SoftmaxGrad<Lanes512>((float*)p, (float*)d, n, (float)(object)c);
            else SoftmaxGrad<Lanes256>((float*)p, (float*)d, n, (float)(object)c);
            return;
        }
        for (int j = 0; j < n; j++) d[j] = p[j] * (d[j] - c);
    }

    static float Max<TV>(float* row, int n) where TV : struct, IFloatLanes<TV>
    {
        int w = TV.Count, j = 0;
        float m = float.NegativeInfinity;
        if (n >= w)
        {
            var vm = TV.Load(row);
            for (j = w; j <= n - w; j += w) vm = TV.MaxNative(vm, TV.Load(row + j));
            m = TV.ReduceMax(vm);
        }
        for (; j < n; j++) m = MathF.Max(m, row[j]);
        return m;
    }

    static float ExpShifted<TV>(float* row, int n, float shift) where TV : struct, IFloatLanes<TV>
    {
        int w = TV.Count, j = 0;
        var sh = TV.Splat(shift);
        var acc = TV.Splat(0);
        for (; j <= n - w; j += w)
        {
            // exp(-inf) is 0 in FloatMath.Exp's clamped range, so masked scores vanish.
            var e = FloatMath.Exp(TV.Sub(TV.Load(row + j), sh));
            TV.Store(e, row + j);
            acc = TV.Add(acc, e);
        }
        float sum = TV.ReduceSum(acc);
        for (; j < n; j++)
        {
            float e = float.IsNegativeInfinity(row[j]) ? 0f : MathF.Exp(row[j] - shift);
            row[j] = e;
            sum += e;
        }
        return sum;
    }

    static void Add<TV>(float* row, float* add, int n) where TV : struct, IFloatLanes<TV>
    {
        int w = TV.Count, j = 0;
        for (; j <= n - w; j += w) TV.Store(TV.Add(TV.Load(row + j), TV.Load(add + j)), row + j);
        for (; j < n; j++) row[j] += add[j];
    }

    static void Scale<TV>(float* from, float* to, int n, float s) where TV : struct, IFloatLanes<TV>
    {
        int w = TV.Count, j = 0;
        var vs = TV.Splat(s);
        for (; j <= n - w; j += w) TV.Store(TV.Mul(TV.Load(from + j), vs), to + j);
        for (; j < n; j++) to[j] = from[j] * s;
    }

    static float Dot<TV>(float* a, float* b, int n) where TV : struct, IFloatLanes<TV>
    {
        int w = TV.Count, j = 0;
        var acc = TV.Splat(0);
        for (; j <= n - w; j += w) acc = TV.Fma(TV.Load(a + j), TV.Load(b + j), acc);
        float sum = TV.ReduceSum(acc);
        for (; j < n; j++) sum += a[j] * b[j];
        return sum;
    }

    static void SoftmaxGrad<TV>(float* p, float* d, int n, float c) where TV : struct, IFloatLanes<TV>
    {
        int w = TV.Count, j = 0;
        var vc = TV.Splat(c);
        for (; j <= n - w; j += w) TV.Store(TV.Mul(TV.Load(p + j), TV.Sub(TV.Load(d + j), vc)), d + j);
        for (; j < n; j++) d[j] = p[j] * (d[j] - c);
    }
}
