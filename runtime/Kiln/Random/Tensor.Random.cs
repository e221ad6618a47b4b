using System;
using System.Runtime.Intrinsics;

namespace Kiln;

public sealed unsafe partial class Tensor
{
    /// <summary>Uniform [0, 1) (<c>torch.rand</c>); reproducible for a seed on any thread count.</summary>
    public static Tensor Rand(int[] shape, DType dtype = DType.Float32, Generator? generator = null) =>
        Uniform(shape, 0, 1, dtype, generator);

    /// <summary>Uniform [0, 1) of the given sizes.</summary>
    public static Tensor Rand(params int[] shape) => Rand(shape, DType.Float32);

    /// <summary>Standard normal (<c>torch.randn</c>).</summary>
    public static Tensor Randn(int[] shape, DType dtype = DType.Float32, Generator? generator = null) =>
        Normal(shape, 0, 1, dtype, generator);

    /// <summary>Standard normal of the given sizes.</summary>
    public static Tensor Randn(params int[] shape) => Randn(shape, DType.Float32);

    /// <summary>Uniform [low, high).</summary>
    public static Tensor Uniform(int[] shape, double low, double high, DType dtype = DType.Float32, Generator? generator = null)
    {
        RequireFloat("uniform", dtype);
        var g = generator ?? Generator.Default;
        var t = Allocate((int[])shape.Clone(), dtype);
        long n = t.Numel;
        ulong key = g.Seed, start = g.Reserve(n);
        byte* p = t.DataPointer;
        int size = dtype.SizeOf();
        ForEachWordChunk(key, start, n, 1, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (c, words) =>
        {
            int len = words.Length;
            if (dtype == DType.Float32)
            {
                float* f = (float*)p + c;
                // Exact in float: 24-bit u times the span, as the double path computes for unit ranges.
                if (low == 0 && high == 1) for (int j = 0; j < len; j++) f[j] = (words[j] >> 8) * (1f / (1 << 24));
                else for (int j = 0; j < len; j++) f[j] = (float)(low + ((words[j] >> 8) * (1.0 / (1 << 24))) * (high - low));
            }
            else
                for (int j = 0; j < len; j++)
                    ElementIO.Write(p + (c + j) * size, dtype, low + ((words[j] >> 8) * (1.0 / (1 << 24))) * (high - low));
        });
        return t;
    }

    /// <summary>Normal with mean and std (<c>torch.normal</c>), by Box–Muller over the Philox stream.</summary>
    public static Tensor Normal(int[] shape, double mean = 0, double std = 1, DType dtype = DType.Float32, Generator? generator = null)
    {
        RequireFloat("normal", dtype);
        if (std < 0) throw new KilnException("normal", $"normal: expects std >= 0.0, but found std {std}");
        var g = generator ?? Generator.Default;
        var t = Allocate((int[])shape.Clone(), dtype);
        long n = t.Numel;
        ulong key = g.Seed, start = g.Reserve(2 * n);
        byte* p = t.DataPointer;
        int size = dtype.SizeOf();
        ForEachWordChunk(key, start, n, 2, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (c, words) =>
        {
            int len = words.Length / 2;
            for (int v = 0; v < len; v++)
            {
                // Two words per value: u1 in (0, 1], u2 in [0, 1).
                double u1 = ((words[2 * v] >> 8) + 1) * (1.0 / (1 << 24));
                double u2 = (words[2 * v + 1] >> 8) * (1.0 / (1 << 24));
                double z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                ElementIO.Write(p + (c + v) * size, dtype, mean + std * z);
            }
        });
        return t;
    }

    /// <summary>Random integers in [low, high) (<c>torch.randint</c>), int64 by default.</summary>
    public static Tensor RandInt(long low, long high, int[] shape, DType dtype = DType.Int64, Generator? generator = null)
    {
        if (high <= low) throw new KilnException("randint", $"randint: expects 'from' to be less than 'to', but got from={low} >= to={high}");
        var g = generator ?? Generator.Default;
        var t = Allocate((int[])shape.Clone(), dtype);
        long n = t.Numel;
        ulong key = g.Seed, start = g.Reserve(2 * n);
        ulong range = (ulong)(high - low);
        byte* p = t.DataPointer;
        int size = dtype.SizeOf();
        ForEachWordChunk(key, start, n, 2, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (c, words) =>
        {
            int len = words.Length / 2;
            for (int v = 0; v < len; v++)
            {
                ulong w = ((ulong)words[2 * v] << 32) | words[2 * v + 1];
                ElementIO.WriteLong(p + (c + v) * size, dtype, low + (long)(w % range));
            }
        });
        return t;
    }

    /// <summary>Random integers in [0, high).</summary>
    public static Tensor RandInt(long high, params int[] shape) => RandInt(0, high, shape);

    /// <summary>Words generated per stack buffer.</summary>
    const int RandomChunk = 1024;

    /// <summary>Receives the words for values [first, first + words.Length / wordsPerValue).</summary>
    delegate void WordChunk(long first, ReadOnlySpan<uint> words);

    /// <summary>
    /// Generates the Philox words for <paramref name="count"/> values (<paramref name="wordsPerValue"/> each, value i using
    /// words start + i·wordsPerValue ...) in stack-sized chunks spread over the threads; the same numbers on any thread count.
    /// </summary>
    static void ForEachWordChunk(ulong key, ulong start, long count, int wordsPerValue, WordChunk body)
    {
        int valuesPerChunk = RandomChunk / wordsPerValue;
        Threads.For(count, 16384, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (s, e) =>
        {
            Span<uint> words = stackalloc uint[RandomChunk];
            for (long c = s; c < e; c += valuesPerChunk)
            {
                int len = (int)Math.Min(valuesPerChunk, e - c);
                var chunk = words[..(len * wordsPerValue)];
                Philox.Fill(key, start + (ulong)(c * wordsPerValue), chunk);
                body(c, chunk);
            }
        });
    }

    /// <summary>
    /// Dropout's scaled keep-mask in one pass over the Philox stream: 1/(1-p) where the uniform draw is ≥ p, else 0
    /// (the same draws <see cref="Rand(int[], DType, Generator?)"/> would give).
    /// </summary>
    internal static Tensor DropoutMask(int[] shape, double p, DType dtype, Generator? generator)
    {
        var g = generator ?? Generator.Default;
        var t = Allocate((int[])shape.Clone(), dtype);
        long n = t.Numel;
        ulong key = g.Seed, start = g.Reserve(n);
        FillDropoutMask(key, start, n, p, dtype, t.DataPointer);
        return t;
    }

    /// <summary>
    /// Dropout of a contiguous float32 CPU tensor in one pass over the Philox stream: x·mask with the mask of
    /// <see cref="DropoutMask"/> (the same draws, the same products), the mask itself written only when
    /// <paramref name="keepMask"/> (the backward needs it). Drawing the mask, then multiplying, read it back from memory.
    /// </summary>
    internal static Tensor DropoutApply(Tensor x, double p, Generator? generator, bool keepMask, out Tensor? mask)
    {
        var g = generator ?? Generator.Default;
        var y = Allocate((int[])x._shape.Clone(), DType.Float32);
        mask = keepMask ? Allocate((int[])x._shape.Clone(), DType.Float32) : null;
        long n = y.Numel;
        ulong key = g.Seed, start = g.Reserve(n);
        uint threshold = DropoutThreshold(p);
        float keep = (float)(1 / (1 - p));
        float* xs = (float*)x.DataPointer, ys = (float*)y.DataPointer, ms = mask is null ? null : (float*)mask.DataPointer;
        ForEachWordChunk(key, start, n, 1, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (c, words) =>
        {
            fixed (uint* wp = words) DropoutChunk(wp, words.Length, threshold, keep, xs + c, ys + c, ms == null ? null : ms + c);
        });
        return y;
    }

    /// <summary>Writes the mask of <see cref="DropoutMask"/> for the draws (key, start..start+n): the same mask again, on demand.</summary>
    internal static void FillDropoutMask(ulong key, ulong start, long n, double p, DType dtype, byte* ptr)
    {
        int size = dtype.SizeOf();
        uint threshold = DropoutThreshold(p);
        double scale = 1 / (1 - p);
        ForEachWordChunk(key, start, n, 1, [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] (c, words) =>
        {
            if (dtype == DType.Float32)
                fixed (uint* wp = words) DropoutChunk(wp, words.Length, threshold, (float)scale, null, null, (float*)ptr + c);
            else
                for (int j = 0; j < words.Length; j++) ElementIO.Write(ptr + (c + j) * size, dtype, (words[j] >> 8) >= threshold ? scale : 0);
        });
    }

    /// <summary>The word threshold of dropout with probability <paramref name="p"/>: u = w·2⁻²⁴ ≥ p ⇔ w ≥ ceil(p·2²⁴), w a word's top 24 bits.</summary>
    static uint DropoutThreshold(double p) => (uint)Math.Ceiling(p * (1 << 24));

    /// <summary>
    /// One chunk of dropout's draws: the scaled keep-mask m (<paramref name="keep"/> where a word's top 24 bits reach
    /// <paramref name="threshold"/>, else 0) written to <paramref name="mask"/> when it is not null, and x·m to
    /// <paramref name="y"/> when <paramref name="x"/> is not null.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static void DropoutChunk(uint* words, int len, uint threshold, float keep, float* x, float* y, float* mask)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var thr = Vector256.Create(threshold);
            var kv = Vector256.Create(keep);
            for (; j <= len - 8; j += 8)
            {
                var m = Vector256.GreaterThanOrEqual(Vector256.ShiftRightLogical(Vector256.Load(words + j), 8), thr).AsSingle() & kv;
                if (x != null) (Vector256.Load(x + j) * m).Store(y + j);
                if (mask != null) m.Store(mask + j);
            }
        }
        for (; j < len; j++)
        {
            float m = (words[j] >> 8) >= threshold ? keep : 0f;
            if (x != null) y[j] = x[j] * m;
            if (mask != null) mask[j] = m;
        }
    }

    static void RequireFloat(string op, DType dtype)
    {
        if (!dtype.IsFloatingPoint())
            throw new KilnException(op, $"{op}: expected a floating point dtype, got {dtype}", KilnErrorKind.DType);
    }
}
