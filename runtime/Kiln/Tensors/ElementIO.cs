using System;

namespace Kiln;

/// <summary>Reads and writes single elements of any dtype as double or long (scalar paths only: printing, Item, Full).</summary>
internal static unsafe class ElementIO
{
    public static double ReadDouble(byte* p, DType t) => t switch
    {
        DType.Float32 => *(float*)p,
        DType.Float64 => *(double*)p,
        DType.Float16 => (double)*(Half*)p,
        DType.BFloat16 => ((BFloat16*)p)->ToSingle(),
        DType.Int64 => *(long*)p,
        DType.Int32 => *(int*)p,
        DType.Int8 => *(sbyte*)p,
        _ => *p,
    };

    public static long ReadLong(byte* p, DType t) => t switch
    {
        DType.Int64 => *(long*)p,
        DType.Int32 => *(int*)p,
        DType.Int8 => *(sbyte*)p,
        DType.UInt8 or DType.Bool => *p,
        _ => (long)ReadDouble(p, t),
    };

    public static void Write(byte* p, DType t, double v)
    {
        switch (t)
        {
            case DType.Float32: *(float*)p = (float)v; break;
            case DType.Float64: *(double*)p = v; break;
            case DType.Float16: *(Half*)p = (Half)v; break;
            case DType.BFloat16: *(BFloat16*)p = BFloat16.FromSingle((float)v); break;
            case DType.Int64: *(long*)p = (long)v; break;
            case DType.Int32: *(int*)p = (int)(long)v; break;
            case DType.Int8: *(sbyte*)p = (sbyte)(long)v; break;
            case DType.UInt8: *p = (byte)(long)v; break;
            default: *p = v != 0 ? (byte)1 : (byte)0; break;
        }
    }

    public static void WriteLong(byte* p, DType t, long v)
    {
        switch (t)
        {
            case DType.Int64: *(long*)p = v; break;
            case DType.Int32: *(int*)p = (int)v; break;
            case DType.Int8: *(sbyte*)p = (sbyte)v; break;
            case DType.UInt8: *p = (byte)v; break;
            default: Write(p, t, v); break;
        }
    }

    /// <summary>The dtype that holds a CLR element type.</summary>
    public static DType DTypeOf(Type t)
    {
        if (t == typeof(float)) return DType.Float32;
        if (t == typeof(double)) return DType.Float64;
        if (t == typeof(Half)) return DType.Float16;
        if (t == typeof(BFloat16)) return DType.BFloat16;
        if (t == typeof(long)) return DType.Int64;
        if (t == typeof(int)) return DType.Int32;
        if (t == typeof(sbyte)) return DType.Int8;
        if (t == typeof(byte)) return DType.UInt8;
        if (t == typeof(bool)) return DType.Bool;
        throw new KilnException(null, $"tensors cannot hold elements of type {t.Name}");
    }
}
