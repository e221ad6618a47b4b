using System;
using ILGPU;

namespace Kiln.Gpu.Kernels;

/// <summary>
/// Loads and stores one element of any <see cref="DType"/> (its code) from raw device bytes, in registers: float16 and
/// bfloat16 are 16-bit patterns converted here (ILGPU kernels cannot use <see cref="System.Half"/>), bool is 0/1.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class ElementCodec
{
    /// <summary>True for int64, int32, int8, uint8 and bool.</summary>
    public static bool IsInteger(int type) => type >= (int)DType.Int64;

    /// <summary>Element <paramref name="index"/> of a <paramref name="type"/> view, as double.</summary>
    public static double LoadDouble(ArrayView<byte> v, long index, int type)
    {
        switch (type)
        {
            case (int)DType.Float32: return v.Cast<float>()[index];
            case (int)DType.Float64: return v.Cast<double>()[index];
            case (int)DType.Float16: return HalfToFloat(v.Cast<ushort>()[index]);
            case (int)DType.BFloat16: return BFloat16ToFloat(v.Cast<ushort>()[index]);
            default: return LoadLong(v, index, type);
        }
    }

    /// <summary>Element <paramref name="index"/> of an integer or bool view, as long.</summary>
    public static long LoadLong(ArrayView<byte> v, long index, int type)
    {
        switch (type)
        {
            case (int)DType.Int64: return v.Cast<long>()[index];
            case (int)DType.Int32: return v.Cast<int>()[index];
            case (int)DType.Int8: return (sbyte)v[index];
            default: return v[index]; // UInt8, Bool
        }
    }

    /// <summary>Stores <paramref name="x"/> (C# conversion rules: integers truncate, bool is x != 0).</summary>
    public static void StoreDouble(ArrayView<byte> v, long index, int type, double x)
    {
        switch (type)
        {
            case (int)DType.Float32: v.Cast<float>()[index] = (float)x; break;
            case (int)DType.Float64: v.Cast<double>()[index] = x; break;
            case (int)DType.Float16: v.Cast<ushort>()[index] = FloatToHalf((float)x); break;
            case (int)DType.BFloat16: v.Cast<ushort>()[index] = FloatToBFloat16((float)x); break;
            case (int)DType.Bool: v[index] = x != 0 ? (byte)1 : (byte)0; break;
            default: StoreLong(v, index, type, (long)x); break;
        }
    }

    /// <summary>Stores an integer into an integer or bool view (narrowing wraps, as C# does).</summary>
    public static void StoreLong(ArrayView<byte> v, long index, int type, long x)
    {
        switch (type)
        {
            case (int)DType.Int64: v.Cast<long>()[index] = x; break;
            case (int)DType.Int32: v.Cast<int>()[index] = (int)x; break;
            case (int)DType.Bool: v[index] = x != 0 ? (byte)1 : (byte)0; break;
            default: v[index] = (byte)x; break; // Int8 and UInt8 keep the low byte
        }
    }

    /// <summary>IEEE half bits to float, exactly.</summary>
    public static float HalfToFloat(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16, exp = (uint)(h >> 10) & 0x1F, mant = (uint)h & 0x3FF;
        if (exp == 0)
        {
            float f = mant * 5.9604644775390625e-8f; // subnormal: mant * 2^-24
            return sign != 0 ? -f : f;
        }
        if (exp == 31) return Interop.IntAsFloat(sign | 0x7F800000u | (mant << 13));
        return Interop.IntAsFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /// <summary>Float to the nearest half (ties to even); overflow gives infinity, NaN stays NaN.</summary>
    public static ushort FloatToHalf(float f)
    {
        uint u = Interop.FloatAsInt(f);
        uint sign = (u >> 16) & 0x8000, a = u & 0x7FFFFFFF;
        if (a >= 0x7F800000) return (ushort)(sign | (a > 0x7F800000 ? 0x7E00u : 0x7C00u));
        if (a >= 0x477FF000) return (ushort)(sign | 0x7C00); // from 65520 up rounds to infinity
        if (a < 0x38800000)
        {
            // Below the smallest normal half: a subnormal count of 2^-24, rounded to even (the scaling is exact).
            float t = Interop.IntAsFloat(a) * 16777216f;
            float r = MathF.Floor(t);
            float rest = t - r;
            if (rest > 0.5f || rest == 0.5f && ((uint)r & 1) != 0) r += 1;
            return (ushort)(sign | (uint)r);
        }
        uint h = (((a >> 23) - 112) << 10) | ((a & 0x7FFFFF) >> 13);
        uint tail = a & 0x1FFF;
        if (tail > 0x1000 || tail == 0x1000 && (h & 1) != 0) h++; // a carry into the exponent is the right result
        return (ushort)(sign | h);
    }

    /// <summary>bfloat16 bits to float, exactly.</summary>
    public static float BFloat16ToFloat(ushort b) => Interop.IntAsFloat((uint)b << 16);

    /// <summary>Float to the nearest bfloat16 (ties to even); NaN stays NaN (as <see cref="BFloat16.FromSingle"/>).</summary>
    public static ushort FloatToBFloat16(float f)
    {
        uint u = Interop.FloatAsInt(f);
        if ((u & 0x7FFFFFFF) > 0x7F800000) return (ushort)((u >> 16) | 0x40);
        return (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
    }
}
