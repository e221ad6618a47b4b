using System;

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
        Threads.For(n, 16384, (s, e) =>
        {
            for (long i = s; i < e; i++)
            {
                double u = (Philox.Word(key, start + (ulong)i) >> 8) * (1.0 / (1 << 24));
                // 24 random bits: u < 1, and exactly representable in every floating dtype Kiln has.
                ElementIO.Write(p + i * size, dtype, low + u * (high - low));
            }
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
        Threads.For(n, 16384, (s, e) =>
        {
            for (long i = s; i < e; i++)
            {
                // Two words per value: u1 in (0, 1], u2 in [0, 1).
                double u1 = ((Philox.Word(key, start + 2 * (ulong)i) >> 8) + 1) * (1.0 / (1 << 24));
                double u2 = (Philox.Word(key, start + 2 * (ulong)i + 1) >> 8) * (1.0 / (1 << 24));
                double z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                ElementIO.Write(p + i * size, dtype, mean + std * z);
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
        Threads.For(n, 16384, (s, e) =>
        {
            for (long i = s; i < e; i++)
            {
                ulong w = ((ulong)Philox.Word(key, start + 2 * (ulong)i) << 32) | Philox.Word(key, start + 2 * (ulong)i + 1);
                ElementIO.WriteLong(p + i * size, dtype, low + (long)(w % range));
            }
        });
        return t;
    }

    /// <summary>Random integers in [0, high).</summary>
    public static Tensor RandInt(long high, params int[] shape) => RandInt(0, high, shape);

    static void RequireFloat(string op, DType dtype)
    {
        if (!dtype.IsFloatingPoint())
            throw new KilnException(op, $"{op}: expected a floating point dtype, got {dtype}");
    }
}
